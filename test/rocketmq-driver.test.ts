// The RocketMQ driver against the emulator, beyond the conformance suite: credentials in TDMQ's
// order, NOT_FOUND for missing topics and groups, URL configuration, both naming forms on the
// wire, the startup timeout, topic-type mismatches, and what the broker's own %DLQ% does.

import { inspect } from 'node:util';
import { type Broker, connect, errorCode } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connectTo,
  fullName,
  startTestEmulator,
  TEST_CLUSTER,
  TEST_NAMESPACE,
  TEST_ROLE,
  TEST_TOKEN,
} from '../packages/rocketmq/test-kit/emulator.js';

let emulator: RunningEmulator;
const brokers: Broker[] = [];

async function open(extra: Parameters<typeof connectTo>[1] = {}): Promise<Broker> {
  const broker = await connectTo(emulator, extra);
  brokers.push(broker);
  return broker;
}

function rendered(error: unknown): string {
  return [String(error), (error as Error).stack, inspect(error, { depth: 10 }), JSON.stringify(error)].join(
    '\n',
  );
}

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 3 });
});

afterEach(async () => {
  await Promise.allSettled(brokers.splice(0).map((b) => b.close({ timeoutMs: 5_000 })));
  emulator.faults.clear();
});

afterAll(async () => {
  await emulator.stop();
});

describe('rocketmq driver against the emulator', () => {
  it('wrong credentials fail with UNAUTHENTICATED and no secret in the error', async () => {
    emulator.engines.rocketmq.createTopic(fullName('auth-t'), { type: 'MIXED' });
    const broker = await open({ token: TEST_TOKEN, role: 'wrong-role-name-secret' });
    const error = await broker.producer('auth-t').catch((e: unknown) => e);
    expect(errorCode(error)).toBe('UNAUTHENTICATED');
    expect((error as { retryable: boolean }).retryable).toBe(false);
    expect((error as Error).message).toMatch(/role TOKEN/);
    const text = rendered(error);
    expect(text).not.toContain('wrong-role-name-secret');
    expect(text).not.toContain(TEST_TOKEN);
  });

  it('swapped credentials (role name as access key) are refused too', async () => {
    emulator.engines.rocketmq.createTopic(fullName('auth-swap'), { type: 'MIXED' });
    const broker = await open({ token: TEST_ROLE, role: TEST_TOKEN });
    await expect(broker.producer('auth-swap')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('a missing topic is NOT_FOUND for producers and consumers; a missing group too', async () => {
    const broker = await open();
    await expect(broker.producer('no-such-topic')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      retryable: false,
    });
    await expect(broker.consumer('no-such-topic', { group: 'g-missing-topic' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    emulator.engines.rocketmq.createTopic(fullName('has-topic'), { type: 'MIXED' });
    const noHook = await open({ ensureGroup: undefined });
    const error = await noHook.consumer('has-topic', { group: 'never-created' }).catch((e: unknown) => e);
    expect(errorCode(error)).toBe('NOT_FOUND');
    expect((error as Error).message).toContain(`${TEST_CLUSTER}|${TEST_NAMESPACE}%never-created`);
  });

  it('connects by URL and puts tag, key, headers and full names on the wire', async () => {
    const engine = emulator.engines.rocketmq;
    engine.createTopic(fullName('url-t'), { type: 'MIXED' });
    engine.createGroup(fullName('url-g'));
    const url = `rocketmq://${TEST_TOKEN}:${TEST_ROLE}@${emulator.endpoints.rocketmq}?cluster=${TEST_CLUSTER}&namespace=${TEST_NAMESPACE}&longPollMs=1000`;
    const broker = await connect(url);
    brokers.push(broker);
    const consumer = await broker.consumer('url-t', { group: 'url-g', filter: { tags: ['TagA', 'TagB'] } });
    const producer = await broker.producer('url-t');
    await producer.send([
      { body: 'a', tags: ['TagA'], key: 'order-1', headers: { region: 'gz' } },
      { body: 'c', tags: ['TagC'] },
      { body: 'b', tags: ['TagB'] },
    ]);
    const stored = engine.messages(fullName('url-t'));
    const first = stored.find((m) => m.tag === 'TagA')!;
    expect(first.keys).toEqual(['order-1']);
    expect(first.properties).toMatchObject({ region: 'gz' });
    const got: string[] = [];
    while (got.length < 2) {
      for (const m of await consumer.receive({ max: 10, waitMs: 2_000 })) {
        got.push(m.text());
        expect(m.deliveryAttempt).toBe(1);
        await m.ack();
      }
    }
    expect(got.sort()).toEqual(['a', 'b']);
  });

  it("field naming sends short names with the namespace field (the emulator's prefix mode)", async () => {
    const engine = emulator.engines.rocketmq;
    engine.createTopic(fullName('field-t'), { type: 'MIXED' });
    const broker = await open({ naming: 'field' });
    const consumer = await broker.consumer('field-t', { group: 'field-g' });
    // Resources live under `<namespace field>%<name>` on the server: the same full names.
    expect(engine.getGroup(fullName('field-g'))).toBeDefined();
    const producer = await broker.producer('field-t');
    await producer.send('via namespace field');
    expect(engine.messages(fullName('field-t'))).toHaveLength(1);
    await consumer.close();
  });

  it('a startup the server never answers fails with TIMEOUT within startupTimeoutMs', async () => {
    emulator.engines.rocketmq.createTopic(fullName('hang-t'), { type: 'MIXED' });
    emulator.faults.setRule({ protocol: 'rocketmq', action: 'Telemetry', hangRate: 1 });
    const broker = await open({ startupTimeoutMs: 800 });
    // TIMEOUT (not a hang until the test's own timeout) is what shows the deadline was kept.
    await expect(broker.producer('hang-t')).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
  });

  it('a delay on a NORMAL topic is refused as INVALID_ARGUMENT naming the topic type', async () => {
    emulator.engines.rocketmq.createTopic(fullName('normal-t'), { type: 'NORMAL' });
    const broker = await open({ topicType: 'MIXED' });
    const producer = await broker.producer('normal-t');
    const error = await producer.send({ body: 'x', delayMs: 1_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false });
    expect((error as Error).message).toMatch(/topicType/);
    await expect(producer.send('plain is fine')).resolves.toBeDefined();
  });

  it('with topicType NORMAL the portable layer refuses delays before sending', async () => {
    emulator.engines.rocketmq.createTopic(fullName('normal-2'), { type: 'NORMAL' });
    const broker = await open({ topicType: 'NORMAL' });
    const producer = await broker.producer('normal-2');
    await expect(producer.send({ body: 'x', delayMs: 1_000 })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it("the broker's own dead-lettering still moves messages to %DLQ%<group> after the group's attempts", async () => {
    const engine = emulator.engines.rocketmq;
    engine.createTopic(fullName('dlq-t'), { type: 'MIXED' });
    // The group's server-side limit (2) is below the portable maxDeliveries (5): the broker wins.
    const broker = await open({
      ensureGroup: (group) => {
        engine.createGroup(group, { maxDeliveryAttempts: 2 });
      },
    });
    const consumer = await broker.consumer('dlq-t', { group: 'dlq-g', visibilityTimeoutMs: 1_000 });
    const producer = await broker.producer('dlq-t');
    await producer.send('poison');
    const attempts: number[] = [];
    const deadline = Date.now() + 10_000;
    const dlq = `%DLQ%${fullName('dlq-g')}`;
    while (Date.now() < deadline && (engine.getTopic(dlq)?.messages ?? 0) === 0) {
      for (const m of await consumer.receive({ max: 1, waitMs: 500 })) {
        attempts.push(m.deliveryAttempt);
        await m.nack();
      }
    }
    expect(attempts).toEqual([1, 2]);
    expect(engine.messages(dlq).map((m) => Buffer.from(m.body).toString())).toEqual(['poison']);
  });
});

describe('rocketmq driver when the server goes away first', () => {
  it('closes promptly and its clients stop reconnecting', { timeout: 20_000 }, async () => {
    const own = await startTestEmulator({ seed: 5 });
    own.engines.rocketmq.createTopic(fullName('gone'), { type: 'MIXED' });
    const lines: string[] = [];
    const logger = {
      debug: (_: object, m?: string) => lines.push(m ?? ''),
      info() {},
      warn() {},
      error() {},
    };
    const broker = await connectTo(own, { logger });
    await broker.consumer('gone', { group: 'gone-g' });
    const producer = await broker.producer('gone');
    await producer.send('x');
    await own.stop();
    await broker.close({ timeoutMs: 5_000 });
    const before = lines.length;
    // Watching for something that must NOT happen needs a window: the client reopens a failed
    // telemetry stream every second, so three seconds would show several renewals per client if
    // close had left them running. At most the one renewal already scheduled per client may run.
    await new Promise((r) => setTimeout(r, 3_000));
    const reopened = lines.slice(before).filter((l) => l.startsWith('Creating telemetry stream'));
    expect(reopened.length).toBeLessThanOrEqual(2);
  });
});
