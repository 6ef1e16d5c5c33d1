// Relays killed with SIGKILL at random points while they publish an outbox of 3,000 rows to the
// real RabbitMQ: nothing is lost, each key's messages first arrive in written order, and the only
// copies are rows a killed relay published but had not yet marked (at most a batch per kill).

import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from '@switchyard/core';
import { ensureOutboxSchema, Outbox, pendingCount } from '@switchyard/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPool, PG_URL, uniqueTable } from './fixtures/outbox-db.js';
import { Collector, total, writeWorkload } from './fixtures/outbox-workload.js';
import { createTestVhost, type TestVhost } from './rabbitmq-helpers.js';

const BATCH = 25; // the child's batchSize
const pool = newPool(4);
const table = uniqueTable('outbox_crash');
let vhost: TestVhost;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  vhost = await createTestVhost('outbox-crash');
  await ensureOutboxSchema(pool, { table });
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
  await vhost?.cleanup();
});

/** Starts a relay process; resolves once it is connected and relaying. */
function startChild(output: string[]): Promise<ChildProcess> {
  // node itself with tsx's loader, not the tsx CLI: the CLI runs the program in a grandchild that
  // a SIGKILL of the CLI would orphan, alive and relaying.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=switchyard-source', 'test/fixtures/outbox-relay-child.ts', table],
    {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        SWITCHYARD_URL: vhost.url,
        SWITCHYARD_TEST_PG: PG_URL,
      },
    },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString().trim()));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) =>
      reject(new Error(`relay child exited (${code}) before ready: ${output.join('\n')}`)),
    );
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('outbox: relays killed at random points', () => {
  it('3,000 rows, 2 relay processes at a time, one SIGKILLed at 12 random progress points: 0 lost, order kept, copies only from kills', async () => {
    const workload = { keys: 50, perKey: 60, perTransaction: 100 };
    const expected = total(workload);
    await writeWorkload(pool, new Outbox({ table }), 'orders', workload);

    const broker = await connect(vhost.url);
    const consumer = await broker.consumer('orders', { group: 'audit', prefetch: 1000 });
    const collector = new Collector(expected);
    const consuming = collector.consume(consumer);
    const output: string[] = [];

    // Every process is started (connected, idle) before the first goes: a replacement takes over
    // the moment its predecessor dies, so the kills land while relays are busy with the backlog,
    // mid-batch (published, not yet marked) as well as between batches.
    const KILLS = 12;
    const ready = await Promise.all(Array.from({ length: KILLS + 2 }, () => startChild(output)));
    const go = (child: ChildProcess) => child.stdin?.write('go\n');
    const live = ready.splice(0, 2);
    live.forEach(go);
    // Kill points: random delivered counts over the first 90%.
    const points = Array.from({ length: KILLS }, () => Math.floor(Math.random() * expected * 0.9)).sort(
      (a, b) => a - b,
    );
    let kills = 0;
    let killedBeforeDone = 0;
    for (const point of points) {
      await collector.reached(point);
      const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0]!;
      if (collector.distinct < expected) killedBeforeDone++;
      if (process.env.DEBUG_OUTBOX)
        console.log(`kill at ${collector.distinct}: pending ${await pendingCount(pool, { table })}`);
      await killed(victim);
      kills++;
      const next = ready.shift()!;
      go(next);
      live.push(next);
    }
    await collector.reached();
    await Promise.all(
      live.map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    collector.stop();
    await consuming;
    await broker.close();

    expect(kills).toBe(KILLS);
    expect(collector.distinct).toBe(expected); // 0 lost
    expect(collector.outOfOrder.slice(0, 5)).toEqual([]);
    // A kill can leave at most the batch it held published but unmarked.
    expect(collector.duplicates).toBeLessThanOrEqual(kills * BATCH);
    expect(await pendingCount(pool, { table })).toBe(0);
    console.log(
      `outbox crash: ${kills} kills (${killedBeforeDone} before the last message arrived), ${collector.duplicates} copies of ${expected}`,
    );
    if (process.env.DEBUG_OUTBOX) console.log(output.join('\n'));
  }, 240_000);
});
