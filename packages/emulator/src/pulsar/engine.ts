// The Pulsar engine behind the TDMQ API actions. Semantics the HTTP API leaves undocumented are
// chosen to match a Pulsar *shared* subscription (see docs/tencentcloud-api.md): every
// ReceiveMessage call is a competing consumer on the subscription's cursor, a delivered message is
// redelivered when it is not acknowledged within the ack timeout, unacknowledged messages older than
// the message TTL expire, and acknowledged messages are kept only as long as the namespace's retention
// policy says (so ResetMsgSubOffsetByTimestamp can rewind into them).
//
// Layered by concern: topology and cursor upkeep (engine-base.ts), messaging
// (engine-messaging.ts), and here snapshots, the journal's records and the state summary.

import type { JournaledEngine } from '../state/journal.js';
import { PulsarMessaging } from './engine-messaging.js';
import { applyUnit, unitRecord } from './journal-units.js';
import { fromSnapshot, type PulsarSnapshot, toSnapshot } from './snapshot.js';

export {
  DEFAULT_CLUSTER_ID,
  DEFAULT_NAMESPACE,
  type Delivered,
  MAX_MESSAGE_BYTES,
  type PulsarEngineOptions,
  type ReceiveOptions,
  type TopicCreate,
} from './engine-base.js';

export class PulsarEngine extends PulsarMessaging implements JournaledEngine {
  // ---- state -----------------------------------------------------------------------------------

  snapshot(): PulsarSnapshot {
    return toSnapshot(this.clusters, this.seq, this.nextLedgerId);
  }

  record(unit: string): unknown {
    return unitRecord(this.clusters, unit);
  }

  apply(unit: string, record: unknown): void {
    this.seq = Math.max(this.seq, applyUnit(this.clusters, unit, record) + 1);
  }

  restore(data: unknown): void {
    const restored = fromSnapshot(data);
    this.clusters = restored.clusters;
    this.seq = restored.seq;
    this.nextLedgerId = restored.nextLedgerId;
    this.wake();
  }

  inspect(): unknown {
    return {
      clusters: this.listClusters().map((c) => ({
        clusterId: c.id,
        environments: [...c.namespaces.values()].map((ns) => ({
          environmentId: ns.name,
          msgTtlSec: ns.msgTtlSec,
          retention: ns.retention ?? null,
          topics: [...ns.topics.values()].map((t) => {
            this.maintain(t);
            return {
              topic: this.topicPath(t),
              partitioned: t.partitioned,
              partitions: t.parts.length,
              storedMessages: t.parts.reduce((n, p) => n + p.entries.length, 0),
              subscriptions: [...t.subs.values()].map((s) => ({
                name: s.name,
                backlog: this.backlog(t, s),
                inFlight: s.cursors.reduce((n, c) => n + c.inflight.size, 0),
              })),
            };
          }),
        })),
      })),
    };
  }
}
