import type { Channel } from 'amqplib';

// Delays through TTL queues, like kombu's native delayed delivery but keyed by headers: level k is
// a headers exchange plus a queue whose messages expire after 2^k ms and are dead-lettered to
// level k-1 (level 0 to the "deliver" exchange). A delay is written in binary: the message starts
// at the exchange of its highest set bit; at each level it waits in the queue when its bit is 1
// and passes straight down (exchange-to-exchange binding) when it is 0. So any delay up to
// 2^levels - 1 ms needs `levels` queues in all, shared by every destination, and at most one
// wait per set bit. Per-queue TTLs keep each queue FIFO in expiry order, so no message waits
// behind a longer one.
//
// Where a message goes when its delay ends depends on the level type (delayQueueType):
// - quorum (default): the levels dead-letter at-least-once (the broker keeps a message until a
//   queue took it) into the "due" queue, and the driver moves each due message to its target with
//   `mandatory` and confirms (delay-mover.ts). Dead-lettering itself cannot report "no queue bound",
//   and an at-least-once level whose message routes nowhere holds it in its dead-letter worker,
//   whose 32 slots then block every other message of that level: so the levels only ever route to
//   the driver's own due queue, and the unroutable case is handled by a client that sees returns.
// - classic: the earlier chain. Dead-lettering is at-most-once and the deliver exchange forwards by
//   a target header to the destination exchange (keeping the routing key) or to one consumer
//   queue (a delayed nack): a message no queue is bound for at the end is dropped by the broker.

/** Header naming the final target: `e:<exchange>` or `q:<queue>`. */
export const TARGET_HEADER = 'switchyard-delay-target';
const BIT_HEADER = 'switchyard-delay-';

export function maxDelayMs(levels: number): number {
  return 2 ** levels - 1;
}

/** The set bits of a delay, highest first: 13 → [3, 2, 0] (8 + 4 + 1 ms). */
export function delayLevels(delayMs: number, levels: number): number[] {
  if (!Number.isInteger(delayMs) || delayMs < 1 || delayMs > maxDelayMs(levels)) {
    throw new RangeError(`delay must be a whole number of ms in 1..${maxDelayMs(levels)}, got ${delayMs}`);
  }
  const out: number[] = [];
  for (let k = levels - 1; k >= 0; k--) if (Math.floor(delayMs / 2 ** k) % 2 === 1) out.push(k);
  return out;
}

export type DelayTarget = { readonly exchange: string } | { readonly queue: string };

export type DelayQueueType = 'quorum' | 'classic';

/** The target a header value names, or undefined when it names none. */
export function parseTarget(value: unknown): DelayTarget | undefined {
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  if (typeof text !== 'string') return undefined;
  if (text.startsWith('e:')) return { exchange: text.slice(2) };
  if (text.startsWith('q:') && text.length > 2) return { queue: text.slice(2) };
  return undefined;
}

export function targetValue(target: DelayTarget): string {
  return 'exchange' in target ? `e:${target.exchange}` : `q:${target.queue}`;
}

/** Where to publish a delayed message and the headers that steer it down the levels. */
export function delayRoute(
  prefix: string,
  delayMs: number,
  levels: number,
  target: DelayTarget,
  type: DelayQueueType,
): { exchange: string; headers: Record<string, string> } {
  const set = delayLevels(delayMs, levels);
  const top = set[0]!;
  const headers: Record<string, string> = { [TARGET_HEADER]: targetValue(target) };
  for (let k = top; k >= 0; k--) headers[`${BIT_HEADER}${k}`] = set.includes(k) ? '1' : '0';
  return { exchange: levelName(prefix, top, type), headers };
}

/**
 * A sender that accepts unroutable messages (`unroutable: 'warn'` or `'drop'`) says so in the
 * delayed message, so whichever driver moves it when its delay ends treats it as the sender would.
 */
export const UNROUTABLE_HEADER = 'switchyard-delay-unroutable';

export function unroutableHeader(mode: 'error' | 'warn' | 'drop'): Record<string, string> {
  return mode === 'error' ? {} : { [UNROUTABLE_HEADER]: mode };
}

/** True for headers this module adds, which consumers do not see. */
export function isDelayHeader(name: string): boolean {
  return name.startsWith(BIT_HEADER);
}

/**
 * Level k's exchange and queue. Quorum levels have names of their own: the classic ones may exist
 * already (declared by an earlier version), and a queue cannot be redeclared with another type.
 */
export function levelName(prefix: string, level: number, type: DelayQueueType): string {
  return type === 'quorum' ? `${prefix}.q${level}` : `${prefix}.${level}`;
}

/** The classic levels' last hop: a headers exchange bound to each target. */
export function deliverExchange(prefix: string): string {
  return `${prefix}.deliver`;
}

/** The quorum levels' last hop: a fanout exchange and a quorum queue of that name. */
export function dueQueue(prefix: string): string {
  return `${prefix}.due`;
}

/** Where due messages go that cannot be delivered (no valid target, or unroutable for too long). */
export function parkedQueue(prefix: string): string {
  return `${prefix}.parked`;
}

/** Declares every level (idempotent; the same arguments every time). */
export async function declareDelayLevels(
  channel: Channel,
  prefix: string,
  levels: number,
  type: DelayQueueType,
): Promise<void> {
  const last = type === 'quorum' ? dueQueue(prefix) : deliverExchange(prefix);
  if (type === 'quorum') {
    const quorum = { durable: true, arguments: { 'x-queue-type': 'quorum' } };
    await channel.assertExchange(last, 'fanout', { durable: true });
    await channel.assertQueue(last, quorum);
    await channel.bindQueue(last, last, '');
    await channel.assertQueue(parkedQueue(prefix), quorum);
  } else {
    await channel.assertExchange(last, 'headers', { durable: true });
  }
  const work: Array<Promise<unknown>> = [];
  for (let k = 0; k < levels; k++) {
    const name = levelName(prefix, k, type);
    const next = k === 0 ? last : levelName(prefix, k - 1, type);
    work.push(
      (async () => {
        await channel.assertExchange(name, 'headers', { durable: true });
        await channel.assertQueue(name, { durable: true, arguments: levelArguments(type, k, next) });
        await channel.bindQueue(name, name, '', { 'x-match': 'all', [`${BIT_HEADER}${k}`]: '1' });
      })(),
    );
  }
  await Promise.all(work);
  // Exchange-to-exchange bindings need both ends to exist.
  await Promise.all(
    Array.from({ length: levels }, (_, k) =>
      channel.bindExchange(k === 0 ? last : levelName(prefix, k - 1, type), levelName(prefix, k, type), '', {
        'x-match': 'all',
        [`${BIT_HEADER}${k}`]: '0',
      }),
    ),
  );
}

function levelArguments(type: DelayQueueType, level: number, next: string): Record<string, unknown> {
  const args = { 'x-message-ttl': 2 ** level, 'x-dead-letter-exchange': next, 'x-queue-type': type };
  // At-least-once dead-lettering keeps a message in its level until the next queue confirmed it;
  // the broker allows it only with reject-publish overflow (no length limit is set here).
  return type === 'quorum'
    ? { ...args, 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' }
    : args;
}

/** Lets delayed messages for `target` leave the classic levels' deliver exchange. */
export async function bindDelayTarget(channel: Channel, prefix: string, target: DelayTarget): Promise<void> {
  const args = { 'x-match': 'all', [TARGET_HEADER]: targetValue(target) };
  if ('exchange' in target) await channel.bindExchange(target.exchange, deliverExchange(prefix), '', args);
  else await channel.bindQueue(target.queue, deliverExchange(prefix), '', args);
}
