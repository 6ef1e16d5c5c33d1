// The migration example's own processes under crash: the order service's outbox relay
// (examples/migration/relay.ts) and its consumer (examples/migration/service.ts) run as processes
// on the dual-write binding `orders.write-both` — every order goes to CMQ and RocketMQ (the
// emulator's), and every consumer reads both, so each order arrives at least twice — and are
// SIGKILLed at random points of their progress and replaced. The orders and the outbox are in the
// real PostgreSQL, the dedup store too; "handled" is a committed shipment row: every order
// shipped exactly once (0 lost, 0 handled twice), and the outbox empty.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '@switchyard/core';
import { PostgresDedupeStore } from '@switchyard/dedupe';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { ensureOutboxSchema, Outbox, pendingCount } from '@switchyard/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOrdersTable,
  createShipmentsTable,
  newPool,
  type OrderTables,
  PG_URL,
  placeOrder,
} from '../examples/migration/orders.js';

const ORDERS = 1_000;
const RELAY_KILLS = 2;
const SERVICE_KILLS = 4;
const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'migration');
const RUN = randomBytes(4).toString('hex');
const tables: OrderTables = {
  orders: `crash_orders_${RUN}`,
  outbox: `crash_outbox_${RUN}`,
  dedupe: `crash_dedupe_${RUN}`,
  shipments: `crash_shipments_${RUN}`,
};
const pool = newPool(4);
const children = new Set<ChildProcess>();
const output: string[] = [];
/** Past it, a wait fails with what the processes said, instead of the test timing out mute. */
let deadline = Number.POSITIVE_INFINITY;
let emulator: RunningEmulator;
let env: Record<string, string>;

beforeAll(async () => {
  const cmq = { secretId: 'AKIDCRASHTEST', secretKey: randomBytes(16).toString('hex') };
  const rocket = { secretId: 'orders-role-token', secretKey: 'orders-role' };
  emulator = await startEmulator({
    credentials: [cmq, rocket],
    rocketmq: { autoCreate: false, allowAnonymous: false, longPolling: { minMs: 200, maxMs: 1_000 } },
  });
  env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    SWITCHYARD_EXAMPLE_PG: PG_URL,
    CMQ_ENDPOINT: emulator.endpoints.cmq,
    CMQ_SECRET_ID: cmq.secretId,
    CMQ_SECRET_KEY: cmq.secretKey,
    ROCKETMQ_ENDPOINTS: emulator.endpoints.rocketmq,
    ROCKETMQ_ROLE_TOKEN: rocket.secretId,
    ROCKETMQ_ROLE_NAME: rocket.secretKey,
  };
  // The topology the console would create, named by the example's config file. A killed
  // consumer's CMQ messages come back after the queue's visibility timeout (3 s here).
  const { config } = await loadConfigFile({ path: join(EXAMPLE, 'switchyard.config.yaml'), env });
  const binding = config.bindings['orders.write-both']!;
  const rocketmq = config.brokers.rocketmq as { cluster: string; namespace: string };
  const full = (name: string) => `${rocketmq.cluster}|${rocketmq.namespace}%${name}`;
  emulator.engines.cmq.createQueue(binding.destination!, { visibilityTimeout: 3 });
  emulator.engines.rocketmq.createTopic(full(binding.destination!), { type: 'NORMAL' });
  emulator.engines.rocketmq.createGroup(full(binding.group!));
  await createOrdersTable(pool, tables);
  await createShipmentsTable(pool, tables);
  await ensureOutboxSchema(pool, { table: tables.outbox });
  await new PostgresDedupeStore({ pool, table: tables.dedupe }).ensureSchema();
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await emulator?.stop();
  for (const table of Object.values(tables)) await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

type Role = 'relay' | 'service';

/** Starts one of the example's processes; resolves once it relays or consumes. */
function start(role: Role): Promise<ChildProcess> {
  const args = role === 'relay' ? [tables.outbox] : ['orders.write-both', tables.dedupe, tables.shipments];
  // node itself with tsx as a loader, not the tsx CLI: the CLI runs the program in a grandchild
  // that a SIGKILL of the CLI would leave running.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=switchyard-source', join(EXAMPLE, `${role}.ts`), ...args],
    { env },
  );
  children.add(child);
  child.once('exit', (code, signal) => {
    children.delete(child);
    output.push(`${role} ${child.pid}: exit ${code ?? signal}`);
  });
  child.stderr?.on('data', (chunk: Buffer) =>
    output.push(`${role} ${child.pid}: ${chunk.toString().trim()}`),
  );
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (/relaying|consuming/.test(chunk.toString())) resolve(child);
    });
    child.once('exit', (code, signal) =>
      reject(
        new Error(`${role} exited (${code ?? signal}) before it started:\n${output.slice(-10).join('\n')}`),
      ),
    );
  });
}

interface Progress {
  sent: number;
  shipped: number;
  shipments: number;
}

async function progress(): Promise<Progress> {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*)::int FROM ${tables.outbox} WHERE sent_at IS NOT NULL) AS sent,
            (SELECT count(DISTINCT key)::int FROM ${tables.shipments}) AS shipped,
            (SELECT count(*)::int FROM ${tables.shipments}) AS shipments`,
  );
  return rows[0] as Progress;
}

/**
 * Kills `kills` processes of one role, each once its progress (`of`) passed a random point, and
 * starts a replacement each time: wherever the victim is (mid-publish, mid-handler, mid-commit,
 * mid-ack) is where the kill lands. Only started processes are victims.
 */
async function chaos(role: Role, kills: number, of: (p: Progress) => number): Promise<number> {
  const live = new Set<ChildProcess>();
  const launch = () =>
    start(role).then(
      (child) => void live.add(child),
      (error: unknown) => output.push(String(error)),
    );
  await Promise.all([launch(), launch()]);
  const points = Array.from({ length: kills }, () => Math.floor(ORDERS * (0.05 + Math.random() * 0.8)));
  let landed = 0;
  for (const point of points.sort((a, b) => a - b)) {
    for (let p = await progress(); of(p) < point || live.size === 0; p = await progress()) {
      if (Date.now() > deadline) throw stuck(`${role} kill at ${point}`, p, live.size);
      await delay(50);
    }
    const victims = [...live];
    const victim = victims[Math.floor(Math.random() * victims.length)]!;
    live.delete(victim);
    if (of(await progress()) < ORDERS) landed++;
    victim.kill('SIGKILL');
    void launch();
  }
  return landed;
}

function stuck(what: string, p: Progress, live: number): Error {
  return new Error(
    `${what}: no progress in time (${JSON.stringify(p)}, ${live} live); last output:\n${output.slice(-30).join('\n')}`,
  );
}

describe('examples/migration under crash', () => {
  it(`relay and service processes SIGKILLed at random points over ${ORDERS} dual-written orders: each shipped exactly once`, {
    timeout: 200_000,
  }, async () => {
    // The orders, each with its message, in transactions of their own (four at a time).
    const outbox = new Outbox({ table: tables.outbox });
    let next = 1;
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        while (next <= ORDERS) await placeOrder(pool, outbox, tables, 'orders.write-both', next++);
      }),
    );

    const t0 = Date.now();
    deadline = t0 + 150_000;
    const [relayKills, serviceKills] = await Promise.all([
      chaos('relay', RELAY_KILLS, (p) => p.sent),
      chaos('service', SERVICE_KILLS, (p) => p.shipped),
    ]);
    const killsDone = Date.now() - t0;
    // Then until every order was shipped and the outbox is empty (the replacements finish it).
    let p = await progress();
    while ((p.shipped < ORDERS || p.sent < ORDERS) && Date.now() < deadline) {
      await delay(200);
      p = await progress();
    }
    const allShipped = Date.now() - t0;
    await Promise.all(
      [...children].map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    const final = await progress();
    const claims = await pool.query(`SELECT count(*)::int AS n FROM ${tables.dedupe}`);
    console.log(
      `example-migration crash: ${relayKills}/${RELAY_KILLS} relay and ${serviceKills}/${SERVICE_KILLS} service kills before their work was done; ${final.shipments} shipments for ${final.shipped}/${ORDERS} orders; ${claims.rows[0].n} dedup marks; last kill after ${(killsDone / 1000).toFixed(1)} s, all shipped after ${(allShipped / 1000).toFixed(1)} s`,
    );
    const tail = output.slice(-20).join('\n');
    expect(final.sent, `outbox rows never published:\n${tail}`).toBe(ORDERS);
    expect(await pendingCount(pool, { table: tables.outbox })).toBe(0);
    expect(final.shipped, `orders lost:\n${tail}`).toBe(ORDERS);
    expect(final.shipments, 'orders handled twice').toBe(ORDERS);
    expect(claims.rows[0].n).toBe(ORDERS);
  });
});
