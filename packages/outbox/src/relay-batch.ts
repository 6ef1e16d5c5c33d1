import type { OutgoingMessage } from '@switchyard/core';
import { claimFollowersSql, claimHeadsSql, markFailedSql, markSentSql } from './claim-sql.js';
import type { RelayMetrics } from './metrics.js';
import { type OutboxRow, toRow } from './row.js';
import type { PooledClient, PoolLike, Queryable } from './sql-client.js';
import { storeError } from './store-errors.js';
import { withStoredContext } from './trace-context.js';

export interface BatchSettings {
  readonly table: string;
  readonly batchSize: number;
  readonly retryDelayMs: number;
  readonly metrics?: RelayMetrics;
}

export interface BatchResult {
  readonly claimed: number;
  readonly published: number;
  readonly failed: number;
  /** The first send failure, when any (the rows stay pending and are retried after retryDelayMs). */
  readonly error?: unknown;
}

/** A producer as the relay uses it: a core `Producer` or a binding's (dual-write) producer. */
export interface RelayProducer {
  send(message: OutgoingMessage): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Where the relay publishes: a `Broker` (a row's destination is a destination) or the `Bindings`
 * of a config file (a row's destination is a binding name, so a dual-write binding publishes each
 * row to both brokers, resolving when both confirmed).
 */
export interface RelayTarget {
  producer(destination: string): Promise<RelayProducer>;
}

/** Opens one producer per destination, on first use, for the relay's life. */
export class ProducerCache {
  readonly #broker: RelayTarget;
  readonly #producers = new Map<string, Promise<RelayProducer>>();

  constructor(broker: RelayTarget) {
    this.#broker = broker;
  }

  get(destination: string): Promise<RelayProducer> {
    let producer = this.#producers.get(destination);
    if (producer === undefined) {
      producer = this.#broker.producer(destination);
      // A failed open is not cached: the next batch tries again.
      producer.catch(() => this.#producers.delete(destination));
      this.#producers.set(destination, producer);
    }
    return producer;
  }

  async close(): Promise<void> {
    const all = [...this.#producers.values()];
    this.#producers.clear();
    await Promise.allSettled(all.map(async (p) => (await p).close()));
  }
}

/**
 * One claim → publish → mark cycle in one transaction: the row locks are the claim, so a relay
 * killed at any point rolls back and its rows are claimable again (published ones are published
 * again, with the same message id). Rows of one lane are sent one after another, each after the
 * broker's confirm of the previous; lanes and lane-less rows go concurrently.
 */
export async function relayBatch(
  pool: PoolLike,
  producers: ProducerCache,
  settings: BatchSettings,
): Promise<BatchResult> {
  const { table } = settings;
  let client: PooledClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw storeError(error, 'connecting to relay', table);
  }
  let broken: Error | undefined;
  // A connection lost while the batch is being sent would otherwise be an unhandled 'error'
  // event (a crashed process); the next query fails with it instead, and the batch rolls back.
  const lost = (error: Error) => {
    broken ??= error;
  };
  client.on?.('error', lost);
  try {
    await client.query('BEGIN');
    const rows = await claim(client, settings);
    if (rows.length === 0) {
      await client.query('COMMIT');
      return { claimed: 0, published: 0, failed: 0 };
    }
    const sent: string[] = [];
    const failed: string[] = [];
    let firstError: unknown;
    const fail = (row: OutboxRow, error: unknown) => {
      failed.push(row.id);
      settings.metrics?.retried(row);
      firstError ??= error;
    };
    const lanes = new Map<string, OutboxRow[]>();
    const free: OutboxRow[] = [];
    for (const row of rows) {
      if (row.lane === null) free.push(row);
      else {
        const lane = lanes.get(row.lane);
        if (lane === undefined) lanes.set(row.lane, [row]);
        else lane.push(row);
      }
    }
    const publish = async (row: OutboxRow) => {
      const producer = await producers.get(row.destination);
      await withStoredContext(row.message.headers, () => producer.send(row.message));
      sent.push(row.id);
      settings.metrics?.published(row);
    };
    await Promise.all([
      ...free.map((row) => publish(row).catch((error) => fail(row, error))),
      ...[...lanes.values()].map(async (lane) => {
        for (const row of lane) {
          try {
            await publish(row);
          } catch (error) {
            // The rest of the lane waits behind it: sending them now would overtake it.
            fail(row, error);
            return;
          }
        }
      }),
    ]);
    if (sent.length > 0) await client.query(markSentSql(table), [sent]);
    if (failed.length > 0) {
      await client.query(markFailedSql(table), [failed, errorText(firstError), settings.retryDelayMs]);
    }
    await client.query('COMMIT');
    return { claimed: rows.length, published: sent.length, failed: failed.length, error: firstError };
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    await client.query('ROLLBACK').catch(() => {});
    throw storeError(error, 'relaying a batch', table);
  } finally {
    client.off?.('error', lost);
    // A connection that failed mid-transaction is destroyed rather than reused.
    client.release(broken);
  }
}

async function claim(client: Queryable, settings: BatchSettings): Promise<OutboxRow[]> {
  const { table, batchSize } = settings;
  const heads = (await client.query(claimHeadsSql(table), [batchSize])).rows.map(toRow);
  const laneHeads = heads.filter((row) => row.lane !== null);
  if (laneHeads.length === 0 || heads.length >= batchSize) return heads;
  const followers = await client.query(claimFollowersSql(table), [
    laneHeads.map((row) => row.lane),
    laneHeads.map((row) => row.id),
    batchSize - heads.length,
  ]);
  // Heads first, then followers in id order: grouping by lane keeps each lane's order.
  return [...heads, ...followers.rows.map(toRow)];
}

function errorText(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1000);
}
