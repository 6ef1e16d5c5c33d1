// LOCK_BATCH_MQ / UNLOCK_BATCH_MQ for orderly consumers: one client holds a (group, topic, broker,
// queue) lock until it unlocks, its connection closes, or 60 s pass without renewal
// (RebalanceLockManager's rocketmq.broker.rebalance.lockMaxLiveTime).

import { type RemotingCommand, ResponseCode, response } from '@switchyard/rocketmq-remoting';
import { jsonObjectBody } from './body.js';
import type { Peer, RemotingBroker, Reply } from './broker.js';

const LOCK_MAX_LIVE_MS = 60_000;

interface QueueRef {
  readonly topic: string;
  readonly brokerName: string;
  readonly queueId: number;
}

interface Lock {
  readonly clientId: string;
  readonly connectionId: number;
  at: number;
}

export class QueueLocks {
  private readonly locks = new Map<string, Lock>();

  /** The queues now locked by `clientId` (renewed), out of those asked for. */
  lock(
    group: string,
    clientId: string,
    connectionId: number,
    queues: readonly QueueRef[],
    now: number,
  ): QueueRef[] {
    const granted: QueueRef[] = [];
    for (const q of queues) {
      const key = lockKey(group, q);
      const held = this.locks.get(key);
      if (held !== undefined && held.clientId !== clientId && now - held.at <= LOCK_MAX_LIVE_MS) continue;
      this.locks.set(key, { clientId, connectionId, at: now });
      granted.push(q);
    }
    return granted;
  }

  unlock(group: string, clientId: string, queues: readonly QueueRef[]): void {
    for (const q of queues) {
      const key = lockKey(group, q);
      if (this.locks.get(key)?.clientId === clientId) this.locks.delete(key);
    }
  }

  releaseConnection(connectionId: number): void {
    for (const [key, lock] of this.locks) if (lock.connectionId === connectionId) this.locks.delete(key);
  }
}

function lockKey(group: string, q: QueueRef): string {
  return `${group}\n${q.topic}\n${q.brokerName}\n${q.queueId}`;
}

function parseBody(cmd: RemotingCommand): { group: string; clientId: string; queues: QueueRef[] } {
  const body = jsonObjectBody(cmd.body, 'LockBatchRequestBody');
  const queues = (Array.isArray(body.mqSet) ? body.mqSet : []).map((q: Record<string, unknown>) => ({
    topic: String(q?.topic ?? ''),
    brokerName: String(q?.brokerName ?? ''),
    queueId: Number(q?.queueId ?? 0),
  }));
  return { group: String(body.consumerGroup ?? ''), clientId: String(body.clientId ?? ''), queues };
}

export function lockBatch(broker: RemotingBroker, cmd: RemotingCommand, peer: Peer): Reply {
  const { group, clientId, queues } = parseBody(cmd);
  const lockOKMQSet = broker.locks.lock(group, clientId, peer.connectionId, queues, broker.now());
  return response(cmd, ResponseCode.SUCCESS, {}, Buffer.from(JSON.stringify({ lockOKMQSet })));
}

export function unlockBatch(broker: RemotingBroker, cmd: RemotingCommand): Reply {
  const { group, clientId, queues } = parseBody(cmd);
  broker.locks.unlock(group, clientId, queues);
  return response(cmd, ResponseCode.SUCCESS);
}
