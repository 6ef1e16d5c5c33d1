import {
  AlreadyExistsError,
  type DriverFilter,
  InvalidArgumentError,
  isSwitchyardError,
  NotFoundError,
  PermissionDeniedError,
  type SwitchyardError,
  UnsupportedError,
} from '@switchyard/core/driver';
import type { Channel } from 'amqplib';
import type { RabbitConfig } from './config.js';
import { DRIVER, mapError } from './errors.js';

// The portable model on AMQP: a destination is an exchange (producers publish to it with the
// message's routing key); a consumer group is a queue bound to that exchange with the group's
// routing-key filter. So groups fan out (one queue each) and consumers of one group compete (one
// queue, several consumers). A producer may also target a queue directly (default exchange).
//
// Joining what exists: exchanges and queues the user names are probed first and used as they are
// (any type, durability, arguments), because redeclaring them with other settings fails 406 and
// closes the channel; only missing ones are declared, with the configured settings. The group
// queue the driver names itself is declared with its settings every time, because the driver
// relies on them (quorum delivery counts, the dead-letter limit); a mismatch fails ALREADY_EXISTS.

type TopologyConfig = Pick<
  RabbitConfig,
  | 'exchangeType'
  | 'exchangeDurable'
  | 'exchangeAutoDelete'
  | 'exchangeArguments'
  | 'queueType'
  | 'queueDurable'
  | 'queueAutoDelete'
  | 'queueArguments'
  | 'topology'
  | 'queueName'
  | 'queueExpiresMs'
>;

/**
 * Runs `work` on a channel of its own and maps its errors: a failed passive check or declare
 * closes the channel it ran on, which must never be a consuming or publishing one.
 */
export type Scratch = <T>(what: string, work: (channel: Channel) => Promise<T>) => Promise<T>;

export interface ConsumerTopology {
  readonly exchange: string;
  readonly queue: string;
  /** The user named the queue (driverOptions.queue): used as it is when it exists. */
  readonly namedQueue: boolean;
  /** Binding keys; empty when the queue is consumed as is (no binding). */
  readonly bindingKeys: readonly string[];
  readonly deadLetter: { readonly maxDeliveries: number; readonly exchange: string } | undefined;
  readonly scratch: Scratch;
}

/** AMQP 0-9-1 sends names and routing keys as short strings: at most 255 bytes of UTF-8. */
export const AMQP_NAME_BYTES = 255;

/** Refuses a name AMQP cannot carry, before anything is sent (the codec would throw mid-frame). */
export function checkName(what: string, value: string, field: string): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes <= AMQP_NAME_BYTES) return;
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  throw new InvalidArgumentError(
    `${what} "${shown}" is ${bytes} bytes of UTF-8; AMQP 0-9-1 names and routing keys are at most ${AMQP_NAME_BYTES} bytes: use a shorter name`,
    { driver: DRIVER, details: { field, bytes, limit: AMQP_NAME_BYTES } },
  );
}

export function queueName(template: string, source: string, group: string): string {
  return template.replaceAll('{source}', source).replaceAll('{group}', group);
}

/** Binding keys for a consumer: its routing-key filter, or "everything" for the exchange type. */
export function bindingKeys(exchangeType: RabbitConfig['exchangeType'], filter: DriverFilter): string[] {
  const keys = filter.routingKeys ?? [];
  if (keys.length === 0) return [exchangeType === 'topic' ? '#' : ''];
  if (exchangeType === 'fanout') return [''];
  if (exchangeType === 'direct') {
    const pattern = keys.find((k) => k.includes('*') || k.includes('#'));
    if (pattern !== undefined) {
      throw new UnsupportedError(
        `routing-key pattern "${pattern}" needs a topic exchange; the rabbitmq driver is configured with direct exchanges, which match keys exactly`,
        { driver: DRIVER, details: { feature: 'routingKeyFilter' } },
      );
    }
  }
  return [...new Set(keys)];
}

export function queueArguments(
  config: TopologyConfig,
  deadLetter: ConsumerTopology['deadLetter'],
): Record<string, unknown> {
  const args: Record<string, unknown> = { ...config.queueArguments, 'x-queue-type': config.queueType };
  if (config.queueExpiresMs !== undefined) args['x-expires'] = config.queueExpiresMs;
  if (deadLetter !== undefined) {
    args['x-dead-letter-exchange'] = deadLetter.exchange;
    // The broker dead-letters once a message has been returned more than the limit: the
    // maxDeliveries-th delivery is the last one.
    args['x-delivery-limit'] = deadLetter.maxDeliveries - 1;
  }
  return args;
}

function queueOptions(config: TopologyConfig, deadLetter: ConsumerTopology['deadLetter']) {
  return {
    durable: config.queueDurable,
    autoDelete: config.queueAutoDelete,
    arguments: queueArguments(config, deadLetter),
  };
}

type Kind = 'exchange' | 'queue';

/**
 * True when it exists; false when it does not; throws for anything else (no access; a queue
 * exclusive to another connection, unless `publishOnly`: anyone may publish to that one).
 */
async function exists(scratch: Scratch, kind: Kind, name: string, publishOnly = false): Promise<boolean> {
  try {
    await scratch(`check ${kind} "${name}"`, (ch) =>
      kind === 'exchange' ? ch.checkExchange(name) : ch.checkQueue(name),
    );
    return true;
  } catch (error) {
    if (isSwitchyardError(error) && error.code === 'NOT_FOUND') return false;
    if (publishOnly && isSwitchyardError(error) && error.details.nativeCode === 405) return true;
    throw explain(error, kind, name, `check ${kind} "${name}"`);
  }
}

/** Declares an exchange that is missing; joins one that exists, whatever its settings. */
async function ensureExchange(scratch: Scratch, config: TopologyConfig, exchange: string): Promise<void> {
  if (await exists(scratch, 'exchange', exchange)) return;
  if (config.topology === 'check') throw missing('exchange', exchange);
  const what = `declare exchange "${exchange}"`;
  try {
    await scratch(what, (ch) =>
      ch.assertExchange(exchange, config.exchangeType, {
        durable: config.exchangeDurable,
        autoDelete: config.exchangeAutoDelete,
        arguments: config.exchangeArguments,
      }),
    );
  } catch (error) {
    // Another program declared it with other settings between the check and the declare: join it.
    if (isInequivalent(error) && (await exists(scratch, 'exchange', exchange))) return;
    throw explain(error, 'exchange', exchange, what);
  }
}

/** Uses a queue that exists as it is; declares a missing one with the configured settings. */
async function ensureNamedQueue(
  scratch: Scratch,
  config: TopologyConfig,
  queue: string,
  publishOnly = false,
): Promise<void> {
  if (await exists(scratch, 'queue', queue, publishOnly)) return;
  if (config.topology === 'check') throw missing('queue', queue);
  const what = `declare queue "${queue}"`;
  try {
    await scratch(what, (ch) => ch.assertQueue(queue, queueOptions(config, undefined)));
  } catch (error) {
    if (isInequivalent(error) && (await exists(scratch, 'queue', queue, publishOnly))) return;
    throw explain(error, 'queue', queue, what);
  }
}

/** Makes sure a producer's exchange exists (declared when missing, unless `check`). */
export function prepareExchange(scratch: Scratch, config: TopologyConfig, exchange: string): Promise<void> {
  return ensureExchange(scratch, config, exchange);
}

/** Makes sure the queue a producer targets through the default exchange exists. */
export function prepareQueue(scratch: Scratch, config: TopologyConfig, queue: string): Promise<void> {
  return ensureNamedQueue(scratch, config, queue, true);
}

/**
 * A consumer's topology, first part: the exchange, dead-letter exchange and (named, or in check
 * mode) queue, on scratch channels of their own, so it can run while the consuming channel opens.
 */
export async function prepareConsumerScratch(config: TopologyConfig, t: ConsumerTopology): Promise<void> {
  if (t.bindingKeys.length > 0) await ensureExchange(t.scratch, config, t.exchange);
  if (t.deadLetter !== undefined) await ensureExchange(t.scratch, config, t.deadLetter.exchange);
  if (t.namedQueue) await ensureNamedQueue(t.scratch, config, t.queue);
  else if (config.topology === 'check') {
    if (!(await exists(t.scratch, 'queue', t.queue))) throw missing('queue', t.queue);
  }
}

/**
 * A consumer's topology, second part, after prepareConsumerScratch: the group's queue (declare
 * mode) and its bindings, on the consuming channel; consumes on `channel` after.
 */
export async function prepareConsumerChannel(
  channel: Channel,
  config: TopologyConfig,
  t: ConsumerTopology,
): Promise<void> {
  if (!t.namedQueue && config.topology !== 'check') {
    const what = `declare queue "${t.queue}"`;
    try {
      await channel.assertQueue(t.queue, queueOptions(config, t.deadLetter));
    } catch (error) {
      throw explain(error, 'queue', t.queue, what);
    }
  }
  // Binding needs no configure permission, so it is done in both modes (and is idempotent).
  for (const key of t.bindingKeys) {
    const what = `bind queue "${t.queue}" to exchange "${t.exchange}" with routing key "${key}"`;
    try {
      await channel.bindQueue(t.queue, t.exchange, key);
    } catch (error) {
      throw mapError(error, what);
    }
  }
}

function isInequivalent(error: unknown): boolean {
  return isSwitchyardError(error) && error.code === 'ALREADY_EXISTS';
}

function missing(kind: Kind, name: string): NotFoundError {
  const fix =
    kind === 'exchange'
      ? 'create it (TDMQ console, or the program that owns it) or use topology "declare"'
      : 'create it (TDMQ console), name an existing queue with driverOptions: { queue }, or use topology "declare"';
  return new NotFoundError(`${kind} "${name}" does not exist and topology is "check": ${fix}`, {
    driver: DRIVER,
    details: { [kind]: name },
  });
}

/** The native error, reworded to name the exchange or queue at fault and how to fix it. */
function explain(error: unknown, kind: Kind, name: string, what: string): SwitchyardError {
  const mapped = mapError(error, what);
  // Scratch channels hand back an already mapped error; quote the broker's own words once.
  const native = isSwitchyardError(error) ? error.cause : error;
  const text = native instanceof Error ? native.message : String(native);
  const options = { driver: DRIVER, cause: native, details: { ...mapped.details, [kind]: name } };
  if (mapped.details.nativeCode === 405) {
    return new PermissionDeniedError(
      `${what}: queue "${name}" is exclusive to another connection (declared with exclusive: true, as seed-style consumers do): only that connection may use it, and the broker deletes it when that connection closes. Consume a queue of your own bound to the same exchange and routing keys (a consumer group), or have its owner declare it without exclusive (${text})`,
      { ...options, details: { ...options.details, resourceLocked: true } },
    );
  }
  if (mapped.code === 'ALREADY_EXISTS') {
    const fix =
      kind === 'queue'
        ? `consume it as it is with driverOptions: { queue: "${name}" }, set queueType, queueDurable, queueAutoDelete and queueArguments to match it, or delete it`
        : 'set exchangeType, exchangeDurable, exchangeAutoDelete and exchangeArguments to match it, or delete it';
    return new AlreadyExistsError(
      `${what}: ${kind} "${name}" already exists with other settings: ${fix} (${text})`,
      options,
    );
  }
  return mapped;
}
