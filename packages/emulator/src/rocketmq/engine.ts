// The RocketMQ engine: topics (one append-only log each), consumer groups, and POP-style
// consumption per (group, topic) — receive makes messages invisible for a while, ack finishes
// them, expiry makes them visible again with delivery_attempt + 1, and after the group's maximum
// attempts they move to `%DLQ%<group>`. Names here are full names (see names.ts); the gRPC service
// resolves namespaces before calling in. Also the in-process admin API for topics and groups.
//
// Layered by concern: shared state, the admin API and lookups (engine-base.ts), consumption
// (engine-delivery.ts), and here the state summary, snapshots and the journal's records.

import type { JournaledEngine } from '../state/journal.js';
import { cursorKey } from './engine-base.js';
import { RocketMqDelivery } from './engine-delivery.js';
import type { Delivery, GroupConfig, StoredMessage, TopicConfig } from './model.js';

export type {
  AppendInput,
  Delivered,
  GroupInfo,
  ReceiveOptions,
  RocketMqEngineOptions,
  TopicInfo,
} from './engine-base.js';

export interface RocketMqSnapshot {
  readonly version: 1;
  readonly seq: number;
  readonly topics: readonly {
    name: string;
    config: TopicConfig;
    messages: readonly (Omit<StoredMessage, 'body'> & { body: string })[];
  }[];
  readonly groups: readonly { name: string; config: GroupConfig; createdSeq: number }[];
  readonly cursors: readonly {
    group: string;
    topic: string;
    low: number;
    deliveries: [number, Delivery][];
  }[];
  /** Remoting consumer offsets (`group\ntopic\nqueueId`, offset); absent in older snapshots. */
  readonly consumerOffsets?: readonly [string, number][];
}

export class RocketMqEngine extends RocketMqDelivery implements JournaledEngine {
  // ---- state ----------------------------------------------------------------------------------

  snapshot(): RocketMqSnapshot {
    return {
      version: 1,
      seq: this.seq,
      topics: [...this.topics.values()].map((t) => ({
        name: t.name,
        config: t.config,
        messages: t.messages.map((m) => ({ ...m, body: m.body.toString('base64') })),
      })),
      groups: [...this.groups.values()].map((g) => ({
        name: g.name,
        config: g.config,
        createdSeq: g.createdSeq,
      })),
      cursors: [...this.cursors.entries()].map(([key, c]) => {
        const [group = '', topic = ''] = key.split('\n');
        return { group, topic, low: c.low, deliveries: [...c.deliveries.entries()] };
      }),
      consumerOffsets: [...this.consumerOffsets.entries()],
    };
  }

  restore(snapshot: RocketMqSnapshot): void {
    this.topics.clear();
    this.groups.clear();
    this.cursors.clear();
    this.transactions.clear();
    this.preparedTransactions.clear();
    this.consumerOffsets.clear();
    this.topicsDropped(undefined);
    for (const [key, offset] of snapshot.consumerOffsets ?? []) this.consumerOffsets.set(key, offset);
    this.seq = snapshot.seq;
    for (const t of snapshot.topics) {
      const messages: StoredMessage[] = t.messages.map((m) => ({
        ...m,
        body: Buffer.from(m.body, 'base64'),
      }));
      this.topics.set(t.name, { name: t.name, config: t.config, messages });
      for (const m of messages) this.indexTransaction(t.name, m);
    }
    for (const g of snapshot.groups)
      this.groups.set(g.name, { name: g.name, config: g.config, createdSeq: g.createdSeq });
    for (const c of snapshot.cursors) {
      this.cursors.set(cursorKey(c.group, c.topic), {
        group: c.group,
        topic: c.topic,
        low: c.low,
        deliveries: new Map(c.deliveries),
      });
    }
  }

  /**
   * Journal record of `m\n<topic>\n<offset>` (one message), `c\n<group>\n<topic>` (a cursor) or
   * `o\n<group>\n<topic>\n<queueId>` (a Remoting consumer offset).
   */
  record(unit: string): unknown {
    if (unit.startsWith('o\n')) return this.consumerOffsets.get(unit.slice(2)) ?? null;
    const [kind, a = '', b = ''] = unit.split('\n');
    if (kind === 'm') {
      const m = this.topics.get(a)?.messages[Number(b)];
      return m === undefined ? null : { ...m, body: m.body.toString('base64') };
    }
    const c = this.cursors.get(cursorKey(a, b));
    return c === undefined ? null : { low: c.low, deliveries: [...c.deliveries] };
  }

  apply(unit: string, record: unknown): void {
    if (unit.startsWith('o\n')) {
      if (typeof record === 'number') this.consumerOffsets.set(unit.slice(2), record);
      else this.consumerOffsets.delete(unit.slice(2));
      return;
    }
    const [kind, a = '', b = ''] = unit.split('\n');
    if (record === null) return;
    if (kind === 'm') {
      const topic = this.topics.get(a);
      const m = record as RocketMqSnapshot['topics'][number]['messages'][number];
      if (topic === undefined || m.offset > topic.messages.length) return;
      const message: StoredMessage = { ...m, body: Buffer.from(m.body, 'base64') };
      topic.messages[m.offset] = message;
      this.indexTransaction(a, message);
      this.seq = Math.max(this.seq, m.seq);
      return;
    }
    if (!this.groups.has(a) || !this.topics.has(b)) return;
    const c = record as { low: number; deliveries: [number, Delivery][] };
    this.cursors.set(cursorKey(a, b), { group: a, topic: b, low: c.low, deliveries: new Map(c.deliveries) });
  }

  inspect(): unknown {
    const now = this.clock.now();
    return {
      autoCreate: this.autoCreate,
      topics: this.listTopics(),
      groups: this.listGroups().map((g) => {
        const progress: Record<string, { inflight: number; done: number; pending: number }> = {};
        for (const [key, cursor] of this.cursors) {
          const [group = '', topic = ''] = key.split('\n');
          if (group !== g.name) continue;
          let inflight = 0;
          let done = 0;
          for (const d of cursor.deliveries.values()) {
            if (d.done) done++;
            else if (d.visibleAt > now) inflight++;
          }
          const total = this.topics.get(topic)?.messages.length ?? 0;
          // Offsets below `low` are finished (or predate the group); their records are dropped.
          progress[topic] = {
            inflight,
            done: cursor.low + done,
            pending: Math.max(0, total - cursor.low - done - inflight),
          };
        }
        return { ...g, progress };
      }),
    };
  }
}
