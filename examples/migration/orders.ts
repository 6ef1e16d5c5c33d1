// The order service's data, shared by main.ts (the walk through the migration) and the service's
// own processes (relay.ts, service.ts): an order row and its message commit together through the
// outbox, and an order is shipped exactly once, the shipment row and the dedup mark committing
// together (transactional() from @switchyard/dedupe).

import type { Handler, Message } from '@switchyard/core';
import { type PostgresDedupeStore, transactional } from '@switchyard/dedupe';
import type { Outbox } from '@switchyard/outbox';
import pg from 'pg';

export const PG_URL = process.env.SWITCHYARD_EXAMPLE_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface Order {
  order: number;
  amount: number;
}

export interface OrderTables {
  orders: string;
  outbox: string;
  dedupe: string;
  shipments: string;
}

export const orderKey = (n: number) => `order-${n}`;

export function newPool(max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: PG_URL, max, connectionTimeoutMillis: 5_000 });
  // An idle connection the server drops must not end the process.
  pool.on('error', () => {});
  return pool;
}

export async function createOrdersTable(pool: pg.Pool, tables: Pick<OrderTables, 'orders'>): Promise<void> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${tables.orders} (key text PRIMARY KEY, amount integer NOT NULL)`,
  );
}

/**
 * No unique key on purpose: the dedup store is what keeps a second shipment of an order out, and
 * the crash test counts rows to prove it.
 */
export async function createShipmentsTable(
  pool: pg.Pool,
  tables: Pick<OrderTables, 'shipments'>,
): Promise<void> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${tables.shipments} (key text NOT NULL, amount integer NOT NULL, pid integer NOT NULL)`,
  );
}

/**
 * Places order `n`: its row and its message (to `destination`, a binding name when the relay
 * publishes through the config's bindings) in one transaction, so either both exist or neither.
 */
export async function placeOrder(
  pool: pg.Pool,
  outbox: Outbox,
  tables: Pick<OrderTables, 'orders'>,
  destination: string,
  n: number,
  headers?: Record<string, string>,
): Promise<string> {
  const order: Order = { order: n, amount: 10 + (n % 7) };
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    await tx.query(`INSERT INTO ${tables.orders} (key, amount) VALUES ($1, $2)`, [orderKey(n), order.amount]);
    await outbox.add(tx, { destination, body: order, key: orderKey(n), ...(headers ? { headers } : {}) });
    await tx.query('COMMIT');
  } catch (error) {
    await tx.query('ROLLBACK');
    throw error;
  } finally {
    tx.release();
  }
  return orderKey(n);
}

/**
 * Ships each order once, by message key (not id: the CMQ and the RocketMQ copy of one dual-written
 * order have different ids). The shipment row and the key's done mark commit in one transaction,
 * and the message is acked after it: a process killed anywhere before COMMIT shipped nothing, and
 * the redelivery (or the other broker's copy) ships it.
 */
export function shipOrders(store: PostgresDedupeStore, tables: Pick<OrderTables, 'shipments'>): Handler {
  return transactional(
    async (message: Message, client) => {
      const order = message.json() as Order;
      await client.query(`INSERT INTO ${tables.shipments} (key, amount, pid) VALUES ($1, $2, $3)`, [
        message.key,
        order.amount,
        process.pid,
      ]);
    },
    {
      store,
      key: (message) => {
        if (message.key === undefined)
          throw new Error(`message ${message.id} has no key: it cannot be deduplicated`);
        return message.key;
      },
      // A copy whose key another process holds comes back soon: the holder commits in milliseconds.
      lockWaitMs: 1_000,
      busyDelayMs: 200,
    },
  );
}
