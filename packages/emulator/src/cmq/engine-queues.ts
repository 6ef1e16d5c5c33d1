// The CMQ engine's queue side: queues and their settings, rewinds, and the messages in them
// (send, long-polled receive, delete).

import { CmqEngineBase } from './engine-base.js';
import { cmqErrors } from './errors.js';
import { CmqQueue } from './queue.js';
import {
  DEFAULT_QUEUE_SETTINGS,
  isWellFormedHandle,
  key,
  MAX_BATCH,
  MAX_BATCH_BYTES,
  matchesSearch,
  NAME_PATTERN,
  paginate,
  seconds,
  stripUndefined,
} from './settings.js';
import type {
  BatchDeleteFailure,
  ListOptions,
  QueueAttributes,
  QueueSettingsInput,
  ReceivedMessage,
  ReceiveOptions,
} from './types.js';

export abstract class CmqQueueOps extends CmqEngineBase {
  // ---------------------------------------------------------------- queues

  /** Create a queue (names are unique case-insensitively). Throws 4460 if it exists, 4000/10020 on a bad name. */
  createQueue(queueName: string, settings: QueueSettingsInput = {}): { queueId: string } {
    if (!NAME_PATTERN.test(queueName)) throw cmqErrors.queueNameFormat();
    const k = key(queueName);
    if (this.queues.has(k)) throw cmqErrors.queueExisted();
    this.checkRecreate(this.deletedQueues, k);
    if (this.queues.size >= this.maxQueues) throw cmqErrors.queueLimit();
    const merged = this.validateQueueSettings({ ...DEFAULT_QUEUE_SETTINGS, ...stripUndefined(settings) }, k);
    const now = this.clock.now();
    const queue = new CmqQueue(this.newId('queue'), queueName, merged, now, now, this.hooks);
    this.queues.set(k, queue);
    this.changes.reshaped();
    return { queueId: queue.queueId };
  }

  /** Delete a queue and its messages; waiting receives on it return empty. Throws 4440 if missing. */
  deleteQueue(queueName: string): void {
    const queue = this.queue(queueName);
    queue.deleted = true;
    queue.wake();
    this.queues.delete(key(queueName));
    this.deletedQueues.set(key(queueName), this.clock.now());
    this.changes.reshaped();
  }

  /** ListQueue: fuzzy `searchWord`, SQL-like offset/limit; totalCount counts all matches. */
  listQueues(options: ListOptions = {}): {
    totalCount: number;
    queueList: Array<{ queueId: string; queueName: string }>;
  } {
    const matches = [...this.queues.values()].filter((q) => matchesSearch(q.queueName, options.searchWord));
    const page = paginate(matches, options);
    return {
      totalCount: matches.length,
      queueList: page.map((q) => ({ queueId: q.queueId, queueName: q.queueName })),
    };
  }

  /** Current settings plus message counts. Throws 4440 if missing. */
  getQueueAttributes(queueName: string): QueueAttributes {
    const queue = this.queue(queueName);
    const now = this.clock.now();
    const counts = queue.counts(now);
    return {
      ...queue.settings,
      queueId: queue.queueId,
      queueName: queue.queueName,
      createTime: seconds(queue.createAt),
      lastModifyTime: seconds(queue.modifyAt),
      activeMsgNum: counts.active,
      inactiveMsgNum: counts.inactive,
      delayMsgNum: counts.delayed,
      rewindMsgNum: counts.rewindable,
      minMsgTime: seconds(counts.minEnqueueAt),
    };
  }

  /** Change any subset of the queue settings; returns the new attributes. */
  setQueueAttributes(queueName: string, settings: QueueSettingsInput): QueueAttributes {
    const queue = this.queue(queueName);
    queue.settings = this.validateQueueSettings(
      { ...queue.settings, ...stripUndefined(settings) },
      key(queueName),
    );
    queue.modifyAt = this.clock.now();
    this.changes.reshaped();
    return this.getQueueAttributes(queueName);
  }

  /** Make messages produced since `startConsumeTime` (Unix s) consumable again. Needs rewindSeconds > 0. */
  rewindQueue(queueName: string, startConsumeTime: number): { rewoundCount: number } {
    const queue = this.queue(queueName);
    if (queue.settings.rewindSeconds <= 0) throw cmqErrors.cannotRewind();
    const now = this.clock.now();
    const startAt = startConsumeTime * 1000;
    if (
      !Number.isFinite(startAt) ||
      startAt > now ||
      startAt < now - queue.settings.rewindSeconds * 1000 - 1000
    ) {
      throw cmqErrors.invalidRewindTime();
    }
    return { rewoundCount: queue.rewind(startAt, now) };
  }

  /** Delete every message of a queue (ClearCmqQueue); settings stay. Returns how many were dropped. */
  clearQueue(queueName: string): { clearedCount: number } {
    return { clearedCount: this.queue(queueName).clear() };
  }

  // ---------------------------------------------------------------- messages

  /** Enqueue one message, visible after `delaySeconds`. Throws 4000/10120, 4400, 4410, 4440. */
  sendMessage(queueName: string, body: string, options: { delaySeconds?: number } = {}): { msgId: string } {
    const [result] = this.sendMessages(queueName, [body], options);
    return result!;
  }

  /** Enqueue 1–16 messages atomically (all validated first). */
  sendMessages(
    queueName: string,
    bodies: readonly string[],
    options: { delaySeconds?: number } = {},
  ): Array<{ msgId: string }> {
    const queue = this.queue(queueName);
    if (bodies.length < 1 || bodies.length > MAX_BATCH) throw cmqErrors.batchSize('msgBody');
    const delaySeconds = options.delaySeconds ?? 0;
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 6_048_000) {
      throw cmqErrors.outOfRange('delaySeconds');
    }
    let total = 0;
    for (const body of bodies) {
      if (body.length === 0) throw cmqErrors.emptyBody();
      const size = Buffer.byteLength(body);
      if (size > queue.settings.maxMsgSize) throw cmqErrors.msgTooLarge();
      total += size;
    }
    if (bodies.length > 1 && total > MAX_BATCH_BYTES) throw cmqErrors.totalTooLarge();
    if (queue.size + bodies.length > queue.settings.maxMsgHeapNum) throw cmqErrors.heapFull();
    const now = this.clock.now();
    return bodies.map((body) => ({ msgId: this.enqueue(queue, body, now, now + delaySeconds * 1000) }));
  }

  /**
   * Receive up to `max` (default 1) messages. Returns at once when any is visible, otherwise
   * long-polls up to `waitSeconds` (default: the queue's pollingWaitSeconds) and returns [] on expiry
   * (the wire reply for that is 7000). Each message stays invisible for the queue's visibilityTimeout.
   */
  async receiveMessages(queueName: string, options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const queue = this.queue(queueName);
    const max = options.max ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > MAX_BATCH) throw cmqErrors.outOfRange('numOfMsg');
    const waitSeconds = options.waitSeconds ?? queue.settings.pollingWaitSeconds;
    if (!Number.isFinite(waitSeconds) || waitSeconds < 0 || waitSeconds > 30) {
      throw cmqErrors.outOfRange('pollingWaitSeconds');
    }
    const first = queue.take(this.clock.now(), max);
    if (first.length > 0 || waitSeconds === 0) return first;
    const deadline = performance.now() + waitSeconds * 1000;
    const signals = [this.stop.signal, ...(options.signal ? [options.signal] : [])];
    queue.polls++;
    try {
      while (!queue.deleted && !signals.some((s) => s.aborted)) {
        const remaining = deadline - performance.now();
        if (remaining <= 0) break;
        const nextDue = queue.nextDueAt();
        const untilDue = nextDue === undefined ? remaining : Math.max(1, nextDue - this.clock.now());
        await waitFor(queue, Math.min(remaining, untilDue), signals);
        if (queue.deleted) break;
        const got = queue.take(this.clock.now(), max);
        if (got.length > 0) return got;
      }
      return [];
    } finally {
      queue.polls--;
    }
  }

  /**
   * Receives long-polling on `queueName` (0 for an unknown queue), so a test or a tool can act once a
   * poll is really waiting instead of guessing with a sleep.
   */
  pendingPolls(queueName: string): number {
    return this.queues.get(key(queueName))?.polls ?? 0;
  }

  /** Delete by the latest receipt handle while it is still in flight; else 4430 (4000/10470 if malformed). */
  deleteMessage(queueName: string, receiptHandle: string): void {
    const queue = this.queue(queueName);
    if (!isWellFormedHandle(receiptHandle)) throw cmqErrors.receiptHandleMalformed();
    if (!queue.delete(receiptHandle, this.clock.now())) throw cmqErrors.receiptHandleInvalid();
  }

  /** Delete up to 16 handles; returns the per-handle failures (empty = all deleted). */
  deleteMessages(queueName: string, receiptHandles: readonly string[]): BatchDeleteFailure[] {
    this.queue(queueName);
    if (receiptHandles.length < 1 || receiptHandles.length > MAX_BATCH)
      throw cmqErrors.batchSize('receiptHandle');
    const failures: BatchDeleteFailure[] = [];
    for (const receiptHandle of receiptHandles) {
      try {
        this.deleteMessage(queueName, receiptHandle);
      } catch (error) {
        const e = error as { code: number; message: string };
        failures.push({ receiptHandle, code: e.code, message: e.message });
      }
    }
    return failures;
  }
}

function waitFor(queue: CmqQueue, ms: number, signals: readonly AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const change = queue.waitForChange();
    const finish = () => {
      clearTimeout(timer);
      change.cancel();
      for (const s of signals) s.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    change.promise.then(finish);
    for (const s of signals) s.addEventListener('abort', finish, { once: true });
  });
}
