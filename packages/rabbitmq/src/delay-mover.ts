import { backoffDelay, type Logger, type SwitchyardError, sleep } from '@switchyard/core/driver';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { RabbitConfig } from './config.js';
import type { ConnectionManager } from './connection.js';
import {
  type DelayTarget,
  delayRoute,
  dueQueue,
  parkedQueue,
  parseTarget,
  TARGET_HEADER,
  UNROUTABLE_HEADER,
} from './delay.js';
import { mapError } from './errors.js';
import { ORIGIN_ROUTING_KEY_HEADER, republishOptions } from './properties.js';
import { Publisher, type PublishItem } from './publisher.js';

// Moves due messages (their delay ended; quorum levels) to their target. A due message is published
// to its target exchange (routing key kept) or queue (default exchange) with `mandatory` and
// confirms, and acked only after the confirm: a crash in between leaves it in the due queue, so it
// is moved again (at-least-once, as the levels are). When no queue is bound for it (the group queue
// was deleted or unbound, or never opened), the broker returns it and it goes back into the delay
// levels for RETRY_FIRST_MS, doubling up to RETRY_MAX_MS, so it arrives within that long once a
// queue is bound again; after PARK_AFTER_MS of that (or with no valid target header) it moves to the
// parked queue, where it stays for an operator. Every driver instance that uses delays runs one;
// they compete on the due queue.

const RETRIES_HEADER = 'switchyard-delay-retries';
const SINCE_HEADER = 'switchyard-delay-unroutable-since';
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;
const PARK_AFTER_MS = 7 * 24 * 3_600_000;
/** Due messages moved at once (each waits for its confirm). */
const PREFETCH = 64;

export interface DelayMoverOptions {
  readonly config: RabbitConfig;
  readonly manager: ConnectionManager;
  readonly logger: Logger;
}

export class DelayMover {
  readonly #o: DelayMoverOptions;
  /** Publishes to targets; a returned message fails its publish (NOT_FOUND). */
  readonly #out: Publisher;
  /** Publishes back into the levels and to the parked queue (always routable). */
  readonly #back: Publisher;
  #running: Promise<void> | undefined;
  #channel: Channel | undefined;
  #closed = false;
  readonly #lastWarning = new Map<string, number>();

  constructor(options: DelayMoverOptions) {
    this.#o = options;
    this.#out = new Publisher(options.manager, 'move a due delayed message', undefined, (item) =>
      Publisher.unroutableError(item),
    );
    this.#back = new Publisher(options.manager, 'retry a due delayed message');
  }

  /** Starts consuming the due queue (once); it must exist. Runs until close, across reconnects. */
  start(): void {
    this.#running ??= this.#run();
  }

  async close(deadline: number): Promise<void> {
    this.#closed = true;
    const channel = this.#channel;
    this.#channel = undefined;
    // Unacked due messages go back to the due queue when the channel closes.
    await channel?.close().catch(() => {});
    await Promise.all([this.#out.close(deadline), this.#back.close(deadline)]);
  }

  async #run(): Promise<void> {
    for (let attempt = 1; !this.#closed; attempt++) {
      try {
        const closed = await this.#consume();
        attempt = 0;
        await closed;
      } catch (error) {
        if (this.#closed) return;
        const e = mapError(error, `consume the due queue "${dueQueue(this.#o.config.delayPrefix)}"`);
        if (e.code === 'CLOSED') return;
        this.#o.logger.warn({ error: e.message }, 'rabbitmq: delayed-message mover retrying');
      }
      if (!this.#closed)
        await sleep(backoffDelay({ ...this.#o.config.reconnect, multiplier: 2 }, attempt + 1));
    }
  }

  /** Consumes on a new channel; resolves with a promise of that channel's end. */
  async #consume(): Promise<Promise<void>> {
    const { model } = await this.#o.manager.connection(Number.POSITIVE_INFINITY, 'delayed-message mover');
    const channel = await model.createChannel();
    const ended = new Promise<void>((resolve) => {
      channel.on('close', () => resolve());
      channel.on('error', () => {});
    });
    if (this.#closed) {
      await channel.close().catch(() => {});
      return ended;
    }
    this.#channel = channel;
    await channel.prefetch(PREFETCH);
    await channel.consume(dueQueue(this.#o.config.delayPrefix), (message) => {
      if (message !== null) void this.#move(channel, message);
    });
    return ended;
  }

  async #move(channel: Channel, message: ConsumeMessage): Promise<void> {
    const deadline = Date.now() + this.#o.config.unavailableTimeoutMs;
    const headers = message.properties.headers ?? {};
    const target = parseTarget(headers[TARGET_HEADER]);
    try {
      let result: true | SwitchyardError;
      if (target === undefined) {
        result = await this.#park(message, 'it names no target', deadline);
      } else {
        [result = true] = await this.#out.publish([deliverItem(message, target)], deadline);
        if (result !== true && result.details.unroutable === true && accepted(message)) {
          this.#warnDropped(message, target);
          result = true;
        }
        // Returned (no queue bound), or the target exchange does not exist (now): both may change.
        if (result !== true && result.code === 'NOT_FOUND')
          result = await this.#retry(message, target, deadline);
      }
      if (result !== true) throw result;
      channel.ack(message);
    } catch (error) {
      if (this.#closed) return;
      this.#o.logger.warn(
        { error: mapError(error, 'move a due delayed message').message },
        'rabbitmq: could not move a due delayed message; it stays in the due queue and is tried again',
      );
      await sleep(RETRY_FIRST_MS);
      try {
        channel.nack(message, false, true);
      } catch {
        // The channel closed: the broker requeues what it had not acked.
      }
    }
  }

  /** No queue is bound for it: back into the levels for a while, or parked after PARK_AFTER_MS. */
  async #retry(
    message: ConsumeMessage,
    target: DelayTarget,
    deadline: number,
  ): Promise<true | SwitchyardError> {
    const headers = message.properties.headers ?? {};
    const retries = Math.max(0, Number(text(headers[RETRIES_HEADER])) || 0);
    const since = Number(text(headers[SINCE_HEADER])) || Date.now();
    const key = describe(target);
    if (Date.now() - since >= PARK_AFTER_MS) {
      return this.#park(message, `no queue was bound for it on ${key} for 7 days`, deadline);
    }
    const waitMs = Math.min(RETRY_FIRST_MS * 2 ** Math.min(retries, 16), RETRY_MAX_MS);
    this.#warnUnroutable(key, message.fields.routingKey, waitMs);
    const { config } = this.#o;
    const route = delayRoute(config.delayPrefix, waitMs, config.delayLevels, target, 'quorum');
    const extra = { ...route.headers, [RETRIES_HEADER]: String(retries + 1), [SINCE_HEADER]: String(since) };
    const options = { ...republishOptions(message, extra), mandatory: false };
    const item = {
      exchange: route.exchange,
      routingKey: message.fields.routingKey,
      content: message.content,
      options,
    };
    const [result = true] = await this.#back.publish([item], deadline);
    return result;
  }

  async #park(message: ConsumeMessage, why: string, deadline: number): Promise<true | SwitchyardError> {
    const queue = parkedQueue(this.#o.config.delayPrefix);
    this.#o.logger.error({ queue, why }, `rabbitmq: a delayed message was parked in queue "${queue}"`);
    const headers = message.properties.headers ?? {};
    // The parked copy keeps its target and routing key, so an operator can move it on by hand.
    const extra = {
      [TARGET_HEADER]: headers[TARGET_HEADER],
      [ORIGIN_ROUTING_KEY_HEADER]: message.fields.routingKey,
    };
    const options = { ...republishOptions(message, extra), mandatory: true };
    const [result = true] = await this.#back.publish(
      [{ exchange: '', routingKey: queue, content: message.content, options }],
      deadline,
    );
    return result;
  }

  /** The sender chose `unroutable: 'warn'` (logged here) or `'drop'` (silent) for it. */
  #warnDropped(message: ConsumeMessage, target: DelayTarget): void {
    if (text(message.properties.headers?.[UNROUTABLE_HEADER]) !== 'warn') return;
    this.#o.logger.warn(
      { target: describe(target), routingKey: message.fields.routingKey },
      'rabbitmq: a delayed message is due but no queue is bound for it; dropped, as its sender set unroutable: warn',
    );
  }

  /** At most one warning a minute per target. */
  #warnUnroutable(target: string, routingKey: string, waitMs: number): void {
    const now = Date.now();
    if ((this.#lastWarning.get(target) ?? 0) + 60_000 > now) return;
    if (this.#lastWarning.size > 1_000) this.#lastWarning.clear();
    this.#lastWarning.set(target, now);
    this.#o.logger.warn(
      { target, routingKey, retryInMs: waitMs },
      `rabbitmq: a delayed message is due but no queue is bound for it on ${target} (or that does not exist now); it is kept and tried again`,
    );
  }
}

/** The due message as its target should get it: the sender's properties and headers only. */
function deliverItem(message: ConsumeMessage, target: DelayTarget): PublishItem {
  const options = republishOptions(message, {});
  return 'exchange' in target
    ? { exchange: target.exchange, routingKey: message.fields.routingKey, content: message.content, options }
    : { exchange: '', routingKey: target.queue, content: message.content, options };
}

/** Delayed sends carry their sender's choice; a delayed nack's copy carries none, so it is always kept. */
function accepted(message: ConsumeMessage): boolean {
  const mode = text(message.properties.headers?.[UNROUTABLE_HEADER]);
  return mode === 'warn' || mode === 'drop';
}

function describe(target: DelayTarget): string {
  return 'exchange' in target ? `exchange "${target.exchange}"` : `queue "${target.queue}"`;
}

function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value ?? '');
}
