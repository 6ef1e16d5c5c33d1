// The idempotent consumer under real conditions: several consumer processes on one RabbitMQ queue,
// copies injected (same business key, different ids, as a migration makes them), and consumer
// processes killed with SIGKILL at random points. The effect is a row in PostgreSQL, so "handled"
// is what committed: every key exactly once (0 lost, 0 handled twice).

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { type Broker, connect } from '@switchyard/core';
import { PostgresDedupeStore } from '@switchyard/dedupe';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMQP_URL, PG_URL } from './fixtures/dedupe-servers.js';

const KILLS = 8;
const tag = `${process.pid}_${randomUUID().slice(0, 6)}`;
const pool = new pg.Pool({ connectionString: PG_URL });
const children = new Set<ChildProcess>();
const output: string[] = [];
let broker: Broker;

beforeAll(async () => {
  broker = await connect(`${AMQP_URL}?queueExpiresMs=300000&exchangeAutoDelete=true`);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await broker?.close({ timeoutMs: 2_000 });
  await pool.end();
});

/** A consumer process; `ready` resolves once it consumes. */
function spawnConsumer(args: string[]): { process: ChildProcess; ready: Promise<ChildProcess> } {
  // Node itself with tsx as a loader, not the tsx CLI: the CLI runs the program in a grandchild,
  // so a SIGKILL of the child would kill only the CLI and leave the consumer running.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=switchyard-source', 'test/fixtures/dedupe-consumer.ts', ...args],
    { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString().trim()));
  const ready = new Promise<ChildProcess>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`consumer exited (${code ?? signal}) before ready:\n${output.join('\n')}`)),
    );
  });
  return { process: child, ready };
}

interface Setup {
  source: string;
  effects: string;
  claims: string;
  keys: number;
}

/** Tables, the group queue, then `keys` messages plus a copy (another id, same key) of every fifth. */
async function setUp(label: string, keys: number): Promise<Setup> {
  const s = {
    source: `dedupe-${label}-${tag}`,
    effects: `dedupe_fx_${label}_${tag}`,
    claims: `dedupe_cl_${label}_${tag}`,
    keys,
  };
  await pool.query(`CREATE TABLE ${s.effects} (key text NOT NULL, pid int NOT NULL)`);
  await new PostgresDedupeStore({ pool, table: s.claims }).ensureSchema();
  // The group queue must exist (and be bound) before anything is published to the exchange.
  await (await broker.consumer(s.source, { group: 'svc' })).close();
  const producer = await broker.producer(s.source);
  const batch: Array<{ body: string; key: string }> = [];
  for (let i = 0; i < keys; i++) {
    batch.push({ body: `m${i}`, key: `k${i}` });
    if (i % 5 === 0) batch.push({ body: `m${i} copy`, key: `k${i}` });
  }
  for (let i = 0; i < batch.length; i += 500) await producer.send(batch.slice(i, i + 500));
  return s;
}

async function counts(s: Setup): Promise<{ rows: number; distinct: number }> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS rows, count(DISTINCT key)::int AS distinct FROM ${s.effects}`,
  );
  return rows[0];
}

async function tearDown(s: Setup): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${s.effects}, ${s.claims}`);
}

async function untilAllHandled(s: Setup, withinMs: number): Promise<{ rows: number; distinct: number }> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const c = await counts(s);
    if (c.distinct >= s.keys || Date.now() > deadline) return c;
    await delay(200);
  }
}

async function stopAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
}

describe('dedupe on RabbitMQ with consumer processes', () => {
  it('transactional(): 3 processes, SIGKILL at random points over 4,000 keys (+800 copies): 0 lost, 0 handled twice', {
    timeout: 300_000,
  }, async () => {
    const s = await setUp('crash', 4_000);
    try {
      const args = ['tx', s.source, s.effects, s.claims, '', '10'];
      const ready = new Set<ChildProcess>();
      const launch = () => {
        const child = spawnConsumer(args);
        void child.ready.then(
          () => ready.add(child.process),
          () => {},
        );
        return child.ready;
      };
      await Promise.all([launch(), launch(), launch()]);
      // KILLS kills at random points of the progress (so the count does not depend on how fast
      // this machine is): once that many keys are in, SIGKILL a consuming process (mid-handler,
      // mid-commit or mid-ack: wherever it is) and start another. A new process takes seconds to
      // start on a loaded machine; only consuming ones are killed.
      const points = Array.from({ length: KILLS }, () => Math.floor(s.keys * (0.05 + Math.random() * 0.85)));
      let kills = 0;
      for (const point of points.sort((a, b) => a - b)) {
        while ((await counts(s)).distinct < point || ready.size === 0) await delay(50);
        const victims = [...ready];
        const victim = victims[Math.floor(Math.random() * victims.length)]!;
        ready.delete(victim);
        victim.kill('SIGKILL');
        kills++;
        void launch().catch(() => {});
      }
      const c = await untilAllHandled(s, 120_000);
      await stopAll();
      const final = await counts(s);
      console.log(`dedupe crash: ${kills} kills, ${final.rows} effects for ${final.distinct}/${s.keys} keys`);
      expect(kills).toBe(KILLS);
      expect(c.distinct, `lost keys; consumer output:\n${output.slice(-20).join('\n')}`).toBe(s.keys);
      expect(final.rows, 'keys handled twice').toBe(final.distinct);
    } finally {
      await tearDown(s);
    }
  });

  it('idempotent() over Redis: 3 processes compete for 1,000 keys (+200 copies): each handled once', {
    timeout: 180_000,
  }, async () => {
    const s = await setUp('redis', 1_000);
    try {
      await Promise.all(
        [0, 1, 2].map(() => spawnConsumer(['redis', s.source, s.effects, s.claims, `t-${tag}:`]).ready),
      );
      const c = await untilAllHandled(s, 120_000);
      await stopAll();
      const final = await counts(s);
      expect(c.distinct).toBe(s.keys);
      expect(final.rows, 'keys handled twice').toBe(final.distinct);
      const { rows } = await pool.query(`SELECT count(DISTINCT pid)::int AS pids FROM ${s.effects}`);
      expect(rows[0].pids, 'all three processes took part').toBe(3);
    } finally {
      await tearDown(s);
    }
  });
});
