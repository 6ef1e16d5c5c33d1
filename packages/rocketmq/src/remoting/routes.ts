// Topic routes from the name server (GET_ROUTEINFO_BY_TOPIC), cached and refreshed on a timer as
// the Apache clients do (every 30 s by default), so queues added or brokers moved are picked up.
// Producers use the write queues of brokers that have a master; consumers the read queues.

import { decodeRouteData, Perm, RequestCode, type TopicRouteData } from '@switchyard/rocketmq-remoting';
import type { ConnectionPool } from './pool.js';

export interface MessageQueue {
  readonly topic: string;
  readonly brokerName: string;
  readonly queueId: number;
}

export const queueKey = (q: MessageQueue): string => `${q.topic}@${q.brokerName}@${q.queueId}`;

/** Orders queues as the Apache clients do before allocating: topic, broker name, queue id. */
export function compareQueues(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

export function publishQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  return queues(topic, route, Perm.WRITE, 'writeQueueNums');
}

export function subscribeQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  return queues(topic, route, Perm.READ, 'readQueueNums');
}

function queues(
  topic: string,
  route: TopicRouteData,
  perm: number,
  count: 'readQueueNums' | 'writeQueueNums',
): MessageQueue[] {
  const withMaster = new Set(route.brokerDatas.filter((b) => b.brokerAddrs['0']).map((b) => b.brokerName));
  return route.queueDatas
    .filter((q) => (q.perm & perm) !== 0 && withMaster.has(q.brokerName))
    .flatMap((q) =>
      Array.from({ length: q[count] }, (_, queueId) => ({ topic, brokerName: q.brokerName, queueId })),
    )
    .sort(compareQueues);
}

export class RouteTable {
  readonly #routes = new Map<string, TopicRouteData>();
  readonly #brokers = new Map<string, string>();
  readonly #pool: ConnectionPool;
  readonly #nameServer: string;
  readonly #timer: NodeJS.Timeout;

  constructor(pool: ConnectionPool, nameServer: string, refreshMs: number) {
    this.#pool = pool;
    this.#nameServer = nameServer;
    this.#timer = setInterval(() => void this.#refreshAll(), refreshMs);
    this.#timer.unref();
  }

  /** The cached route, fetched on first use; a missing topic rejects NOT_FOUND. */
  async route(topic: string): Promise<TopicRouteData> {
    return this.#routes.get(topic) ?? (await this.refresh(topic));
  }

  async refresh(topic: string): Promise<TopicRouteData> {
    const reply = await this.#pool.call(
      this.#nameServer,
      RequestCode.GET_ROUTEINFO_BY_TOPIC,
      { topic },
      undefined,
      `route lookup of "${topic}" at name server ${this.#nameServer}`,
    );
    const route = decodeRouteData(reply.body ?? Buffer.from('{}'));
    this.#routes.set(topic, route);
    for (const b of route.brokerDatas) {
      const master = b.brokerAddrs['0'];
      if (master !== undefined) this.#brokers.set(b.brokerName, master);
    }
    return route;
  }

  /** The master address of a broker seen in some route. */
  brokerAddress(brokerName: string): string | undefined {
    return this.#brokers.get(brokerName);
  }

  /** Every broker master address of the given topics' routes. */
  brokerAddresses(topics?: Iterable<string>): string[] {
    const names = new Set<string>();
    for (const topic of topics ?? this.#routes.keys()) {
      for (const b of this.#routes.get(topic)?.brokerDatas ?? []) names.add(b.brokerName);
    }
    return [...names].map((n) => this.#brokers.get(n)).filter((a): a is string => a !== undefined);
  }

  forget(topic: string): void {
    this.#routes.delete(topic);
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #refreshAll(): Promise<void> {
    // A failed refresh keeps the old route: the brokers may still be there.
    await Promise.allSettled([...this.#routes.keys()].map((topic) => this.refresh(topic)));
  }
}
