// Pulls one owned queue (long-polling once it is drained) while the consumer holds fewer than
// `prefetch` messages, asking for no more than the room left (sheet §4.4), passing the commit offset along as the Apache clients
// do, and turns what comes back into deliveries. The broker filters by tag hash; hashes collide,
// so the exact tag is checked here too.

import { backoffDelay, isAborted, isRetryable, sleep } from '@switchyard/core/driver';
import {
  decodeStoredMessages,
  MessageConst,
  PullSysFlag,
  RequestCode,
  ResponseCode,
  type StoredMessage,
} from '@switchyard/rocketmq-remoting';
import type { RemotingDelivery } from './delivery.js';
import type { PulledQueue } from './membership.js';
import { toDelivery } from './messages.js';
import type { ConnectionPool } from './pool.js';
import type { RemotingSettings } from './settings.js';

/** The most one pull asks for (the Apache clients' pullBatchSize). */
export const PULL_BATCH = 32;
/** Pull replies that are not errors besides SUCCESS. */
const PULL_ACCEPT: readonly number[] = [
  ResponseCode.PULL_NOT_FOUND,
  ResponseCode.PULL_RETRY_IMMEDIATELY,
  ResponseCode.PULL_OFFSET_MOVED,
];
const RETRY_PAUSE = { initialDelayMs: 200, maxDelayMs: 3_000, multiplier: 2 } as const;

export interface PullContext {
  readonly pool: ConnectionPool;
  readonly settings: RemotingSettings;
  readonly group: string;
  readonly tags: readonly string[];
  readonly broadcast: boolean;
  readonly retryTopic: string;
  readonly subVersion: number;
  /**
   * How many messages the next pull may ask for, or a promise that resolves when settles make
   * room. `reserve`: the pull does not long-poll (the queue's first, or one that had more when last
   * pulled), so it comes back at once and the room it asks for is kept for it until `landed`; a
   * drained queue's pull may wait out a long poll, and room kept for it would hold every other
   * queue back that long.
   */
  room(reserve: boolean): number | Promise<void>;
  /** The pull `room` answered with `asked` came back (or failed): how many of its messages fit now. */
  landed(asked: number, reserved: boolean): number;
  /** True while `q` is still this consumer's queue under `key`. */
  owns(key: string, q: PulledQueue): boolean;
  /** Queue `key`'s pull failed in a way retrying cannot fix (`error`), or worked again (undefined). */
  failed(key: string, error: Error | undefined): void;
  /** Takes `deliveries` over (the array may become the consumer's buffer). */
  deliver(deliveries: RemotingDelivery[]): void;
}

/** Pulls `q` until it is stopped (given up, or the consumer closes). */
export async function pullQueue(ctx: PullContext, key: string, q: PulledQueue): Promise<void> {
  const { pool, settings } = ctx;
  const expression = ctx.tags.length === 0 ? '*' : [...new Set(ctx.tags)].join('||');
  const isRetry = q.mq.topic === ctx.retryTopic;
  // The exact tags wanted, or undefined for every message (and on the retry topic, see accepted).
  const wanted = isRetry || ctx.tags.length === 0 || ctx.tags.includes('*') ? undefined : new Set(ctx.tags);
  // The same for every pull of this queue: made once, not per request.
  const what = `pull from "${q.mq.topic}" queue ${q.mq.queueId}`;
  const callOptions = {
    timeoutMs: settings.longPollMs + settings.requestTimeoutMs,
    accept: PULL_ACCEPT,
  };
  const subscription = isRetry ? '*' : expression;
  let failures = 0;
  // Whether the next pull keeps room for itself and asks without SUSPEND (answered at once, with
  // what there is or PULL_NOT_FOUND). The first pull does: when several queues start on a backlog,
  // long polls sharing one room all came back full and all but one were cut, bringing their
  // messages twice (docs/bench-profiles.md §26.5). A queue found drained long-polls, keeping none.
  // Not the %RETRY% queue's first: it holds only send-backs, is mostly empty, and a pull answered
  // "nothing" before its long poll would be one more request per consumer started; it is taken
  // after the topic's queues (membership.ts), so it asks only for the room they left.
  let busy = !isRetry;
  // Each queue's stop signal has a map of its own (as every AbortSignal): isAborted reads it at
  // core's one megamorphic site, so a new queue or consumer does not deoptimise this loop.
  const stop = q.stop.signal;
  while (!isAborted(stop)) {
    const ask = ctx.room(busy);
    if (typeof ask !== 'number') {
      await ask;
      continue;
    }
    const reserved = busy;
    const commitOffset = ctx.broadcast ? 0 : q.offsets.committable();
    let reply: Awaited<ReturnType<ConnectionPool['call']>>;
    try {
      reply = await pool.call(
        q.address,
        RequestCode.PULL_MESSAGE,
        {
          consumerGroup: ctx.group,
          topic: q.mq.topic,
          queueId: q.mq.queueId,
          queueOffset: q.offsets.nextPull,
          maxMsgNums: ask,
          sysFlag:
            (reserved ? 0 : PullSysFlag.SUSPEND) |
            PullSysFlag.SUBSCRIPTION |
            (commitOffset > 0 ? PullSysFlag.COMMIT_OFFSET : 0),
          commitOffset,
          suspendTimeoutMillis: settings.longPollMs,
          subscription,
          subVersion: ctx.subVersion,
          expressionType: 'TAG',
        },
        undefined,
        what,
        callOptions,
      );
      failures = 0;
      ctx.failed(key, undefined);
    } catch (error) {
      ctx.landed(ask, reserved);
      if (isAborted(stop)) return;
      if (!isRetryable(error)) ctx.failed(key, error as Error);
      failures++;
      settings.logger.warn(
        { topic: q.mq.topic, queueId: q.mq.queueId, error: (error as Error).message },
        'rocketmq: pull failed; retrying',
      );
      await sleep(backoffDelay(RETRY_PAUSE, failures), q.stop.signal).catch(() => undefined);
      continue;
    }
    const fit = ctx.landed(ask, reserved);
    if (isAborted(stop) || !ctx.owns(key, q)) return;
    let next = Number(reply.extFields.nextBeginOffset ?? q.offsets.nextPull);
    // The broker says where the queue ends (maxOffset, in every pull reply): more is waiting
    // there when the pull stops short of it.
    const end = reply.extFields.maxOffset;
    busy = end !== undefined ? next < Number(end) : reply.code === ResponseCode.SUCCESS;
    if (reply.code === ResponseCode.PULL_OFFSET_MOVED) {
      q.offsets.moveTo(next);
      continue;
    }
    if (reply.code !== ResponseCode.SUCCESS) {
      if (reply.code === ResponseCode.PULL_RETRY_IMMEDIATELY) q.offsets.moveTo(next);
      continue;
    }
    let messages = decodeStoredMessages(reply.body ?? Buffer.alloc(0));
    if (messages.length > fit) {
      // Pulls of other queues took the room while this one (a long poll) waited: what does not
      // fit stays on the broker, and the next pull starts at it (a pull moves nothing there).
      next = (messages[Math.max(0, fit)] as StoredMessage).queueOffset;
      messages = messages.slice(0, Math.max(0, fit));
      busy = true;
    }
    ctx.deliver(accepted(ctx, key, q, messages, next, wanted));
  }
}

/**
 * Records the pull in the queue's offsets; a message of another tag than `wanted` (undefined:
 * every tag) is done at once.
 */
function accepted(
  ctx: Pick<PullContext, 'broadcast'>,
  key: string,
  q: PulledQueue,
  messages: StoredMessage[],
  next: number,
  wanted: ReadonlySet<string> | undefined,
): RemotingDelivery[] {
  q.offsets.pulledMessages(messages, next);
  // The pull's own array, each message replaced by its delivery once read: no second array, and
  // no push per delivery — pushing onto a fresh `[]` called the push builtin every time
  // (≈ 124 instructions per message, callgrind).
  const out: Array<StoredMessage | RemotingDelivery> = messages;
  let kept = 0;
  // Indexed: once per pull, so long unoptimised, where for…of allocates per element.
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as StoredMessage;
    if (wanted !== undefined) {
      const tag = m.properties[MessageConst.TAGS];
      if (tag === undefined || !wanted.has(tag)) {
        q.offsets.done(m.queueOffset);
        continue;
      }
    }
    out[kept++] = toDelivery(m, key, q.address, !ctx.broadcast);
  }
  out.length = kept;
  return out as RemotingDelivery[];
}
