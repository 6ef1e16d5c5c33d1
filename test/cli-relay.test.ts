// `switchyard relay` end to end: the real bin relays an outbox table in the real PostgreSQL to the
// real RabbitMQ (a vhost and user of its own, the password only in the environment), drains it
// with --until-empty, stops cleanly on SIGTERM with nothing left behind, and fails with the
// documented exit codes on a missing table or a binding where the relay takes `config:`.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Broker, connect, type Message } from '@switchyard/core';
import { ensureOutboxSchema, Outbox, pendingCount } from '@switchyard/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, jsonLines, startCli } from './cli-support.js';
import { inTransaction, newPool, PG_URL, uniqueTable } from './fixtures/outbox-db.js';
import { createTestVhost, type TestVhost } from './rabbitmq-helpers.js';

const pool = newPool(2);
const DB_SECRET = `pg-secret-${Math.random().toString(36).slice(2)}`;
let vhost: TestVhost;
let broker: Broker;
let dir: string;
let passwordFile: string;
const tables: string[] = [];

beforeAll(async () => {
  vhost = await createTestVhost('cli-relay');
  broker = await connect(vhost.url);
  dir = await mkdtemp(join(tmpdir(), 'switchyard-relay-'));
  // PostgreSQL here trusts local connections, so any password is accepted: the file's content is
  // a secret the output must never show.
  passwordFile = join(dir, 'pg-password');
  await writeFile(passwordFile, `${DB_SECRET}\n`, { mode: 0o600 });
});
afterAll(async () => {
  await broker?.close();
  for (const table of tables) await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
  await vhost?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The broker URL with its password as an environment reference, as a user writes it. */
const brokerUrl = () => vhost.url.replace(encodeURIComponent(vhost.password), `\${env:RELAY_TEST_RABBIT}`);
const env = () => ({ RELAY_TEST_RABBIT: vhost.password });

async function newTable(): Promise<string> {
  const table = uniqueTable('cli_relay');
  tables.push(table);
  await ensureOutboxSchema(pool, { table });
  return table;
}

/** `count` rows over 5 keys, seq-numbered per key, in transactions of 10. */
async function write(table: string, destination: string, count: number): Promise<void> {
  const outbox = new Outbox({ table });
  for (let i = 0; i < count; i += 10) {
    await inTransaction(pool, async (tx) => {
      for (let j = i; j < Math.min(i + 10, count); j++)
        await outbox.add(tx, { destination, key: `k${j % 5}`, body: { seq: Math.floor(j / 5) } });
    });
  }
}

/** Receives until `count` distinct messages came; checks each key's order. */
async function collect(destination: string, count: number): Promise<Message[]> {
  const consumer = await broker.consumer(destination, { group: 'audit', prefetch: 200 });
  const got = new Map<string, Message>();
  try {
    while (got.size < count) {
      const batch = await consumer.receive({ max: 100, waitMs: 20_000 });
      if (batch.length === 0) break;
      for (const message of batch) {
        got.set(message.id, message);
        await message.ack();
      }
    }
  } finally {
    await consumer.close();
  }
  return [...got.values()];
}

function inOrderPerKey(messages: Message[]): boolean {
  const last = new Map<string, number>();
  for (const message of messages) {
    const seq = (message.json() as { seq: number }).seq;
    if ((last.get(message.key!) ?? -1) >= seq) return false;
    last.set(message.key!, seq);
  }
  return true;
}

describe('switchyard relay', () => {
  it('--until-empty relays every row to RabbitMQ in order per key, exit 0, no secret in the output', async () => {
    const table = await newTable();
    const destination = `relay-drain-${Date.now().toString(36)}`;
    // The group's queue exists before the relay publishes to the exchange.
    await (await broker.consumer(destination, { group: 'audit' })).close();
    await write(table, destination, 200);
    const result = await cli(
      [
        'relay',
        '--db',
        PG_URL,
        '--db-password-file',
        passwordFile,
        '--url',
        brokerUrl(),
        '--table',
        table,
        '--batch',
        '25',
        '--until-empty',
        '--json',
      ],
      { env: env() },
    );
    expect(result.code, result.stderr).toBe(0);
    const [summary] = jsonLines(result.stdout);
    expect(summary).toMatchObject({
      ok: true,
      table,
      published: 200,
      failed: 0,
      pending: 0,
      stoppedBy: 'empty',
    });
    const messages = await collect(destination, 200);
    expect(messages).toHaveLength(200);
    expect(inOrderPerKey(messages)).toBe(true);
    expect(await pendingCount(pool, { table })).toBe(0);
    for (const secret of [DB_SECRET, vhost.password]) {
      expect(result.stdout).not.toContain(secret);
      expect(result.stderr).not.toContain(secret);
    }
  });

  it('runs until SIGTERM, relaying rows committed while it runs, then stops cleanly (exit 130, nothing pending)', async () => {
    const table = await newTable();
    const destination = `relay-run-${Date.now().toString(36)}`;
    await (await broker.consumer(destination, { group: 'audit' })).close();
    const { child, done } = startCli(
      ['relay', '--db', PG_URL, '--url', brokerUrl(), '--table', table, '--poll', '20', '--json'],
      { env: env() },
    );
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.includes('relaying')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`relay exited (${code}) before it started: ${stderr}`)));
    });
    await write(table, destination, 100);
    const messages = await collect(destination, 100);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(130);
    const [summary] = jsonLines(result.stdout);
    expect(summary).toMatchObject({ ok: true, published: 100, pending: 0, stoppedBy: 'signal' });
    expect(messages).toHaveLength(100);
    expect(inOrderPerKey(messages)).toBe(true);
    expect(result.stderr).not.toContain(vhost.password);
  });

  it('a missing table is NOT_FOUND (exit 4) with the fix; --create-table creates it', async () => {
    const table = uniqueTable('cli_relay_missing');
    tables.push(table);
    const args = ['relay', '--db', PG_URL, '--url', brokerUrl(), '--table', table, '--until-empty'];
    const missing = await cli(args, { env: env() });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain(`"${table}" does not exist`);
    expect(missing.stderr).toContain('--create-table');
    const created = await cli([...args, '--create-table', '--json'], { env: env() });
    expect(created.code, created.stderr).toBe(0);
    expect(jsonLines(created.stdout)[0]).toMatchObject({ ok: true, published: 0, pending: 0 });
  });

  it('config:<binding> is a usage error (rows name their bindings); an unset env reference is a config error', async () => {
    const binding = await cli(['relay', '--db', PG_URL, '--url', 'config:orders']);
    expect(binding.code).toBe(1);
    expect(binding.stderr).toContain('give config: alone');
    const unset = await cli(
      ['relay', '--db', `postgres://app:\${env:RELAY_TEST_UNSET}@127.0.0.1/test`, '--url', brokerUrl()],
      {
        env: env(),
      },
    );
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('RELAY_TEST_UNSET');
  });
});
