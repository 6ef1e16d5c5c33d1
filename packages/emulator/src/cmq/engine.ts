// The CMQ engine: queues, topics and subscriptions with the semantics of protocols/cmq.md §5–§7.
// It knows nothing about HTTP: the CMQ HTTP handler and the Tencent Cloud API handler both call it,
// so both wire protocols share one state. Every failure is a CmqError carrying the CMQ code.
//
// The class is layered by concern: shared state and internals (engine-base.ts), queues and their
// messages (engine-queues.ts), topics and subscriptions (engine-topics.ts), and here what spans
// both: the state summary, snapshots and the journal's records.

import type { JournaledEngine } from '../state/journal.js';
import type { Subscription } from './engine-base.js';
import { CmqTopicOps } from './engine-topics.js';
import { CmqQueue, type MessageSnapshot } from './queue.js';
import { key } from './settings.js';
import type { QueueSettings, TopicSettings } from './types.js';

export type { CmqEngineOptions } from './engine-base.js';
export { DEFAULT_QUEUE_SETTINGS, NAME_PATTERN } from './settings.js';

export interface CmqSnapshot {
  readonly version: 1;
  readonly counters: { seq: number; handle: number; id: number };
  readonly queues: Array<{
    queueId: string;
    queueName: string;
    settings: QueueSettings;
    createAt: number;
    modifyAt: number;
    live: MessageSnapshot[];
    archive: MessageSnapshot[];
  }>;
  readonly topics: Array<{
    topicId: string;
    topicName: string;
    settings: TopicSettings;
    createAt: number;
    modifyAt: number;
    publishTimes: number[];
    subscriptions: Subscription[];
  }>;
}

export class CmqEngine extends CmqTopicOps implements JournaledEngine {
  // ---------------------------------------------------------------- state

  /** A JSON-friendly summary for `/_emulator/state`. */
  inspect(): unknown {
    const now = this.clock.now();
    return {
      queues: [...this.queues.values()].map((q) => {
        const c = q.counts(now);
        return {
          queueName: q.queueName,
          queueId: q.queueId,
          ...q.settings,
          activeMsgNum: c.active,
          inactiveMsgNum: c.inactive,
          delayMsgNum: c.delayed,
          rewindMsgNum: c.rewindable,
        };
      }),
      topics: [...this.topics.values()].map((t) => ({
        topicName: t.topicName,
        topicId: t.topicId,
        filterType: t.settings.filterType,
        maxMsgSize: t.settings.maxMsgSize,
        msgCount: this.topicMsgCount(t),
        subscriptions: [...t.subscriptions.values()].map((s) => ({
          subscriptionName: s.subscriptionName,
          protocol: s.protocol,
          endpoint: s.endpoint,
          notifyStrategy: s.notifyStrategy,
          notifyContentFormat: s.notifyContentFormat,
          filterTags: s.filterTags,
          bindingKeys: s.bindingKeys,
          msgCount: s.msgCount,
          ...(s.protocol === 'http'
            ? {
                push: {
                  ...this.pusher.statsFor({ topicName: t.topicName, subscriptionName: s.subscriptionName }),
                },
              }
            : {}),
        })),
      })),
    };
  }

  /** Everything needed to rebuild the engine (messages included); see restore(). */
  snapshot(): CmqSnapshot {
    return {
      version: 1,
      counters: { seq: this.seq, handle: this.handleSeq, id: this.idSeq },
      queues: [...this.queues.values()].map((q) => ({
        queueId: q.queueId,
        queueName: q.queueName,
        settings: q.settings,
        createAt: q.createAt,
        modifyAt: q.modifyAt,
        ...q.snapshot(),
      })),
      topics: [...this.topics.values()].map((t) => ({
        topicId: t.topicId,
        topicName: t.topicName,
        settings: t.settings,
        createAt: t.createAt,
        modifyAt: t.modifyAt,
        publishTimes: t.publishTimes,
        subscriptions: [...t.subscriptions.values()],
      })),
    };
  }

  /** Replace all state with a snapshot taken by snapshot(). */
  restore(snapshot: CmqSnapshot): void {
    if (snapshot.version !== 1)
      throw new Error(`unsupported CMQ snapshot version ${String(snapshot.version)}`);
    for (const q of this.queues.values()) {
      q.deleted = true;
      q.wake();
    }
    this.queues.clear();
    this.topics.clear();
    this.seq = snapshot.counters.seq;
    this.handleSeq = snapshot.counters.handle;
    this.idSeq = snapshot.counters.id;
    for (const s of snapshot.queues) {
      const queue = new CmqQueue(
        s.queueId,
        s.queueName,
        { ...s.settings },
        s.createAt,
        s.modifyAt,
        this.hooks,
      );
      queue.restore(s.live, s.archive);
      this.queues.set(key(s.queueName), queue);
    }
    for (const s of snapshot.topics) {
      this.topics.set(key(s.topicName), {
        topicId: s.topicId,
        topicName: s.topicName,
        settings: { ...s.settings },
        createAt: s.createAt,
        modifyAt: s.modifyAt,
        publishTimes: [...s.publishTimes],
        publishTimesKept: s.publishTimes.length,
        subscriptions: new Map(s.subscriptions.map((sub) => [key(sub.subscriptionName), { ...sub }])),
      });
    }
  }

  /** Journal record of a unit: `counters`, or `m:<queue key>:<seq>` (one live message). */
  record(unit: string): unknown {
    if (unit === 'counters') return { seq: this.seq, handle: this.handleSeq, id: this.idSeq };
    const [, queueKey = '', seq = ''] = unit.split(':');
    return this.queues.get(queueKey)?.record(Number(seq)) ?? null;
  }

  apply(unit: string, record: unknown): void {
    if (unit === 'counters') {
      const c = record as CmqSnapshot['counters'];
      this.seq = Math.max(this.seq, c.seq);
      this.handleSeq = Math.max(this.handleSeq, c.handle);
      this.idSeq = Math.max(this.idSeq, c.id);
      return;
    }
    const [, queueKey = '', seq = ''] = unit.split(':');
    this.queues.get(queueKey)?.replace(Number(seq), record as MessageSnapshot | null);
  }

  /** Stop pushes and end every waiting receive (they return empty). */
  close(): void {
    this.stop.abort();
    this.pusher.close();
    for (const q of this.queues.values()) q.wake();
  }
}
