import type { Channel } from 'amqplib';

// Delays through TTL queues, like kombu's native delayed delivery but keyed by headers: level k is
// a headers exchange plus a queue whose messages expire after 2^k ms and are dead-lettered to
// level k-1 (level 0 to the "deliver" exchange). A delay is written in binary: the message starts
// at the exchange of its highest set bit; at each level it waits in the queue when its bit is 1
// and passes straight down (exchange-to-exchange binding) when it is 0. So any delay up to
// 2^levels - 1 ms needs `levels` queues in all, shared by every destination, and at most one
// wait per set bit. The deliver exchange forwards by a target header to the destination exchange
// (keeping the routing key) or to one consumer queue (a delayed nack). Per-queue TTLs keep each
// queue FIFO in expiry order, so no message waits behind a longer one.

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

export function targetValue(target: DelayTarget): string {
  return 'exchange' in target ? `e:${target.exchange}` : `q:${target.queue}`;
}

/** Where to publish a delayed message and the headers that steer it down the levels. */
export function delayRoute(
  prefix: string,
  delayMs: number,
  levels: number,
  target: DelayTarget,
): { exchange: string; headers: Record<string, string> } {
  const set = delayLevels(delayMs, levels);
  const top = set[0]!;
  const headers: Record<string, string> = { [TARGET_HEADER]: targetValue(target) };
  for (let k = top; k >= 0; k--) headers[`${BIT_HEADER}${k}`] = set.includes(k) ? '1' : '0';
  return { exchange: levelName(prefix, top), headers };
}

/** True for headers this module adds, which consumers do not see. */
export function isDelayHeader(name: string): boolean {
  return name.startsWith(BIT_HEADER);
}

export function levelName(prefix: string, level: number): string {
  return `${prefix}.${level}`;
}

export function deliverExchange(prefix: string): string {
  return `${prefix}.deliver`;
}

/** Declares every level (idempotent; the same arguments every time). */
export async function declareDelayLevels(channel: Channel, prefix: string, levels: number): Promise<void> {
  const deliver = deliverExchange(prefix);
  await channel.assertExchange(deliver, 'headers', { durable: true });
  const work: Array<Promise<unknown>> = [];
  for (let k = 0; k < levels; k++) {
    const name = levelName(prefix, k);
    const next = k === 0 ? deliver : levelName(prefix, k - 1);
    work.push(
      (async () => {
        await channel.assertExchange(name, 'headers', { durable: true });
        await channel.assertQueue(name, {
          durable: true,
          arguments: { 'x-message-ttl': 2 ** k, 'x-dead-letter-exchange': next, 'x-queue-type': 'classic' },
        });
        await channel.bindQueue(name, name, '', { 'x-match': 'all', [`${BIT_HEADER}${k}`]: '1' });
      })(),
    );
  }
  await Promise.all(work);
  // Exchange-to-exchange bindings need both ends to exist.
  await Promise.all(
    Array.from({ length: levels }, (_, k) =>
      channel.bindExchange(k === 0 ? deliver : levelName(prefix, k - 1), levelName(prefix, k), '', {
        'x-match': 'all',
        [`${BIT_HEADER}${k}`]: '0',
      }),
    ),
  );
}

/** Lets delayed messages for `target` leave the deliver exchange. */
export async function bindDelayTarget(channel: Channel, prefix: string, target: DelayTarget): Promise<void> {
  const args = { 'x-match': 'all', [TARGET_HEADER]: targetValue(target) };
  if ('exchange' in target) await channel.bindExchange(target.exchange, deliverExchange(prefix), '', args);
  else await channel.bindQueue(target.queue, deliverExchange(prefix), '', args);
}
