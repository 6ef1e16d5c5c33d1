// RocketMQ inside the whole emulator: startEmulator's `rocketmqPort`/`endpoints.rocketmq`, the
// HTTP admin routes for topics and groups, `/_emulator/state`, `--state` persistence across a
// restart, a stop() that ends a long poll and a Telemetry stream open, and the CLI flags.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { quietLogger, rawClient, shutdownsArrived } from '../../test-kit/rocketmq.js';
import { within } from '../../test-kit/within.js';
import { DEFAULT_CREDENTIALS, type RunningEmulator, startEmulator } from '../start.js';

const BIN = fileURLToPath(new URL('../../bin/switchyard-emulator.mjs', import.meta.url));
const credential = DEFAULT_CREDENTIALS[0]!;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-rocketmq-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const fast = { longPolling: { minMs: 200, maxMs: 2000 }, minInvisibleMs: 1000 };

function options(emulator: RunningEmulator) {
  return {
    endpoints: emulator.endpoints.rocketmq,
    namespace: '',
    sessionCredentials: { accessKey: credential.secretId, accessSecret: credential.secretKey },
    logger: quietLogger,
  };
}

async function http(emulator: RunningEmulator, method: string, path: string, body?: unknown) {
  const res = await fetch(`${emulator.endpoints.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${emulator.adminToken}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('RocketMQ in startEmulator', () => {
  it('admin routes, state, and --state persistence of topics, groups, messages and offsets', async () => {
    const statePath = join(dir, 'state.json');
    const first = await startEmulator({ statePath, rocketmq: { ...fast, autoCreate: false } });
    expect(first.endpoints.rocketmq).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await http(first, 'PUT', '/_emulator/rocketmq/topics/T1', { type: 'NORMAL', queues: 2 })).toEqual({
      status: 200,
      body: { name: 'T1', type: 'NORMAL', queues: 2, messages: 0 },
    });
    expect(
      await http(first, 'PUT', '/_emulator/rocketmq/groups/G1', { maxDeliveryAttempts: 5 }),
    ).toMatchObject({
      status: 200,
      body: {
        name: 'G1',
        fifo: false,
        maxDeliveryAttempts: 5,
        retryPolicy: 'exponential',
        startFrom: 'creation',
      },
    });
    expect(await http(first, 'PUT', '/_emulator/rocketmq/topics/T2', { type: 'BOGUS' })).toMatchObject({
      status: 400,
    });
    expect(await http(first, 'PUT', '/_emulator/rocketmq/groups/G2', { colour: 'red' })).toMatchObject({
      status: 400,
      body: { field: 'colour' },
    });
    expect((await http(first, 'GET', '/_emulator/rocketmq/topics/nope')).status).toBe(404);
    // Full names travel URL-encoded.
    expect(await http(first, 'PUT', '/_emulator/rocketmq/topics/c%7Cns%25T9', {})).toMatchObject({
      status: 200,
      body: { name: 'c|ns%T9', type: 'NORMAL' },
    });
    expect(await http(first, 'DELETE', '/_emulator/rocketmq/topics/c%7Cns%25T9')).toEqual({
      status: 200,
      body: { deleted: 'c|ns%T9' },
    });
    expect((await http(first, 'PUT', '/_emulator/rocketmq/topics/bad%20name', {})).status).toBe(400);
    expect(await http(first, 'PUT', '/_emulator/rocketmq/settings', { autoCreate: false })).toEqual({
      status: 200,
      body: { autoCreate: false },
    });
    const producer = new Producer({ ...options(first), topics: ['T1'] });
    await producer.startup();
    await producer.send({ topic: 'T1', tag: 'TagA', body: Buffer.from('one') });
    await producer.send({ topic: 'T1', tag: 'TagA', body: Buffer.from('two') });
    const consumer = new SimpleConsumer({
      ...options(first),
      consumerGroup: 'G1',
      subscriptions: new Map([['T1', '*']]),
      awaitDuration: 300,
    });
    await consumer.startup();
    const [one] = await consumer.receive(1, 15_000);
    await consumer.ack(one!);
    const state = await http(first, 'GET', '/_emulator/state');
    expect(state.body).toHaveProperty('rocketmq.topics.0.name', 'T1');
    expect(state.body).toHaveProperty('rocketmq.groups.0.progress.T1.done', 1);
    const messages = await http(first, 'GET', '/_emulator/rocketmq/topics/T1/messages');
    expect((messages.body as unknown as { tag: string }[]).map((m) => m.tag)).toEqual(['TagA', 'TagA']);
    await consumer.shutdown();
    await producer.shutdown();
    await shutdownsArrived(first);
    await first.stop();

    const second = await startEmulator({ statePath, rocketmq: { ...fast, autoCreate: false } });
    try {
      expect(second.engines.rocketmq.getTopic('T1')).toEqual({
        name: 'T1',
        type: 'NORMAL',
        queues: 2,
        messages: 2,
      });
      const again = new SimpleConsumer({
        ...options(second),
        consumerGroup: 'G1',
        subscriptions: new Map([['T1', '*']]),
        awaitDuration: 300,
      });
      await again.startup();
      // The acked message stays consumed; the other one is still there.
      const got = await again.receive(32, 15_000);
      expect(got.map((m) => m.body.toString())).toEqual(['two']);
      await again.ack(got[0]!);
      await again.shutdown();
      await shutdownsArrived(second);
    } finally {
      await second.stop();
    }
  });

  it('stop() ends a 20 s long poll and an open Telemetry stream at once', async () => {
    const emulator = await startEmulator({
      rocketmq: { allowAnonymous: true, longPolling: { minMs: 1000, maxMs: 20_000 } },
    });
    const raw = rawClient(emulator.endpoints.rocketmq);
    try {
      const poll = raw.stream('ReceiveMessage', {
        group: { name: 'G1' },
        message_queue: { topic: { name: 'T1' } },
        batch_size: 1,
        invisible_duration: { seconds: 30 },
        long_polling_timeout: { seconds: 20 },
      });
      let settingsReplied!: () => void;
      const replied = new Promise<void>((resolve) => {
        settingsReplied = resolve;
      });
      const telemetry = raw.telemetry([{ settings: { client_type: 'PRODUCER' } }], 30_000, settingsReplied);
      await within(replied, 10_000, 'the settings reply');
      await vi.waitFor(() => expect(emulator.engines.rocketmq.pendingPolls).toBe(1), { timeout: 10_000 });
      // Both would otherwise run 20 s and more; the bounds are far inside that.
      await within(emulator.stop(), 10_000, 'stop()');
      const items = await within(poll, 10_000, 'the long poll');
      expect(items[0]).toMatchObject({ status: { code: 'MESSAGE_NOT_FOUND' } });
      // The settings reply came, then a graceful end (OK status, not the client's deadline).
      const stream = await within(telemetry, 10_000, 'the Telemetry stream');
      expect(stream.ended).toBe(true);
      expect(stream.items[0]).toMatchObject({
        status: { code: 'OK' },
        settings: { publishing: { max_body_size: 4194304 } },
      });
    } finally {
      raw.close();
    }
  });
});

describe('CLI', () => {
  it('--rocketmq-port, --rocketmq-no-auto-create and --rocketmq-allow-anonymous; the ready line names the endpoint', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, '--rocketmq-port', '0', '--rocketmq-no-auto-create', '--rocketmq-allow-anonymous'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        exited.then((code) => reject(new Error(`exited ${code}`)));
      });
      const endpoints = JSON.parse(line) as { cmq: string; api: string; rocketmq: string };
      expect(endpoints.rocketmq).toMatch(/^127\.0\.0\.1:\d+$/);
      const raw = rawClient(endpoints.rocketmq);
      try {
        const reply = await raw.unary('QueryRoute', { topic: { name: 'Nope' } });
        expect(reply).toMatchObject({ status: { code: 'TOPIC_NOT_FOUND' } });
      } finally {
        raw.close();
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
