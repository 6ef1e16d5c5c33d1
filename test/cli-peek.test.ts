// `switchyard peek / stats / purge / list` as the real bin on RocketMQ 4.x Remoting (emulator):
// peek reads what a group gets next and leaves it (no offset committed, a consumer then gets every
// message as its first delivery), stats counts the group's backlog from its committed offsets,
// purge skips the backlog for that group only (the messages stay). RocketMQ 5 gRPC and native
// Pulsar say "not on this flavour" with the reason.

import { type Broker, connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, jsonLines } from './cli-support.js';

const TOKEN = 'cli-peek-token';
const ROLE = 'cli-peek-role';
const CLUSTER = 'clipeek';
const NAMESPACE = 'ns';
const full = (name: string) => `${CLUSTER}|${NAMESPACE}%${name}`;
const TOPIC = 'orders';
const GROUP = 'billing';

let emulator: RunningEmulator;
const brokers: Broker[] = [];
const url = () =>
  `rocketmq+remoting://${TOKEN}:${ROLE}@${emulator.endpoints.remoting}?cluster=${CLUSTER}&namespace=${NAMESPACE}&requestTimeoutMs=5000`;
const rmq = () => emulator.engines.rocketmq;

beforeAll(async () => {
  emulator = await startEmulator({
    rocketmqPort: 0,
    remotingPort: 0,
    credentials: [{ secretId: TOKEN, secretKey: ROLE }],
    rocketmq: { autoCreate: false },
    // Every retry delay level 1 s: a nacked message reaches the group's retry topic within the test.
    remoting: { delayLevelsMs: Array.from({ length: 18 }, () => 1_000) },
  });
  rmq().createTopic(full(TOPIC), { type: 'MIXED', queues: 2 });
  rmq().createGroup(full(GROUP), { fifo: false });
});

afterAll(async () => {
  await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 2_000 })));
  await emulator?.stop();
});

async function open(): Promise<Broker> {
  const broker = await connect(url());
  brokers.push(broker);
  return broker;
}

const offsets = () => [0, 1].map((q) => rmq().consumerOffset(full(GROUP), full(TOPIC), q));
const statsOf = async () => {
  const r = await cli(['stats', '--url', url(), '-s', TOPIC, '-g', GROUP, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    name: string;
    consumers: number;
    groups: Record<string, { ready: number }>;
  };
};

describe('switchyard peek / stats / purge / list on RocketMQ 4.x Remoting (emulator)', () => {
  it('peek leaves the messages and offsets; a consumer then gets them first time; stats follows', {
    timeout: 120_000,
  }, async () => {
    const broker = await open();
    await (await broker.producer(TOPIC)).send(['a', 'b', 'c']);
    expect(await statsOf()).toEqual({ name: full(TOPIC), consumers: 0, groups: { [GROUP]: { ready: 3 } } });

    const peeked = await cli(['peek', '--url', url(), '-s', TOPIC, '-g', GROUP, '--json']);
    expect(peeked.code, peeked.stderr).toBe(0);
    const lines = jsonLines(peeked.stdout);
    expect(lines.map((m) => m.body).sort()).toEqual(['a', 'b', 'c']);
    expect(lines.map((m) => m.deliveryAttempt)).toEqual([1, 1, 1]);
    expect(peeked.stderr).toContain('peeked 3 messages, none taken');
    const one = await cli(['peek', '--url', url(), '-s', TOPIC, '-g', GROUP, '-n', '1']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^#1 id=\S+ attempt=1 .*\n[abc]\n$/);
    // Nothing committed, nothing counted: the group's offsets are still unset.
    expect(offsets()).toEqual([undefined, undefined]);
    expect(await statsOf()).toMatchObject({ groups: { [GROUP]: { ready: 3 } } });

    const consumer = await broker.consumer(TOPIC, { group: GROUP, prefetch: 10 });
    const got = [];
    while (got.length < 3) got.push(...(await consumer.receive({ max: 10, waitMs: 5_000 })));
    expect(got.map((m) => m.text()).sort()).toEqual(['a', 'b', 'c']);
    expect(got.map((m) => m.deliveryAttempt)).toEqual([1, 1, 1]);
    await Promise.all(got.map((m) => m.ack()));
    await consumer.close();
    // Closing commits the acked offsets: no backlog, nothing left to peek.
    expect(await statsOf()).toMatchObject({ consumers: 0, groups: { [GROUP]: { ready: 0 } } });
    const empty = await cli(['peek', '--url', url(), '-s', TOPIC, '-g', GROUP]);
    expect([empty.code, empty.stdout]).toEqual([0, '']);
    expect(empty.stderr).toContain('peeked 0 messages, none taken');
  });

  it('peek shows a message sent back for retry with its next attempt, and does not count one', {
    timeout: 120_000,
  }, async () => {
    rmq().createTopic(full('jobs'), { type: 'MIXED', queues: 1 });
    rmq().createGroup(full('workers'), { fifo: false });
    const broker = await open();
    await (await broker.producer('jobs')).send(['r']);
    const first = await broker.consumer('jobs', { group: 'workers' });
    const [r] = await first.receive({ max: 1, waitMs: 5_000 });
    expect([r?.text(), r?.deliveryAttempt]).toEqual(['r', 1]);
    await r!.nack();
    await first.close();
    // Sent back: it waits out its delay level, then stands in %RETRY%<group> until consumed.
    let lines: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 30 && lines.length === 0; i++) {
      const peeked = await cli(['peek', '--url', url(), '-s', 'jobs', '-g', 'workers', '--json']);
      expect(peeked.code, peeked.stderr).toBe(0);
      lines = jsonLines(peeked.stdout);
    }
    expect(lines.map((m) => [m.body, m.deliveryAttempt])).toEqual([['r', 2]]);
    const again = await cli(['peek', '--url', url(), '-s', 'jobs', '-g', 'workers', '--json']);
    expect(jsonLines(again.stdout).map((m) => [m.body, m.deliveryAttempt])).toEqual([['r', 2]]);
    const second = await broker.consumer('jobs', { group: 'workers' });
    const [retried] = await second.receive({ max: 1, waitMs: 10_000 });
    expect([retried?.text(), retried?.deliveryAttempt]).toEqual(['r', 2]);
    await retried!.ack();
    await second.close();
  });

  it('purge skips the backlog for the group (the broker keeps the messages); refused while consumers are online', {
    timeout: 120_000,
  }, async () => {
    const broker = await open();
    await (await broker.producer(TOPIC)).send(['d', 'e']);
    expect((await statsOf()).groups[GROUP]).toEqual({ ready: 2 });
    const kept = rmq().messages(full(TOPIC)).length;
    const refused = await cli(['purge', '--url', url(), '-s', TOPIC, '-g', GROUP]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('add --yes');
    const purged = await cli(['purge', '--url', url(), '-s', TOPIC, '-g', GROUP, '--yes']);
    expect(purged.code, purged.stderr).toBe(0);
    expect(purged.stdout).toContain(`skipped 2 messages for group ${GROUP} on ${TOPIC}`);
    expect(purged.stdout).toContain('the broker keeps them');
    expect((await statsOf()).groups[GROUP]).toEqual({ ready: 0 });
    expect(rmq().messages(full(TOPIC))).toHaveLength(kept);

    await (await broker.producer(TOPIC)).send(['f']);
    const consumer = await broker.consumer(TOPIC, { group: GROUP });
    const [f] = await consumer.receive({ max: 1, waitMs: 5_000 });
    expect(f?.text()).toBe('f');
    await f!.ack();
    // The consumer is a group member now (it received): the broker lists it.
    expect((await statsOf()).consumers).toBe(1);
    const online = await cli(['purge', '--url', url(), '-s', TOPIC, '-g', GROUP, '--yes', '--json']);
    expect(online.code).toBe(5);
    expect(JSON.parse(online.stdout)).toMatchObject({
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('are online') },
    });
    await consumer.close();
  });

  it('list names the namespace topics by short name; stats without a group, a missing topic', {
    timeout: 60_000,
  }, async () => {
    rmq().createTopic('other-cluster|ns%elsewhere', { type: 'MIXED', queues: 1 });
    const list = await cli(['list', '--url', url(), '--json']);
    expect(list.code, list.stderr).toBe(0);
    const names = (JSON.parse(list.stdout) as { destinations: Array<{ name: string }> }).destinations.map(
      (d) => d.name,
    );
    expect(names).toContain(TOPIC);
    expect(names.some((n) => n.includes('elsewhere') || n.startsWith('%RETRY%'))).toBe(false);
    const noGroup = await cli(['stats', '--url', url(), '-s', TOPIC]);
    expect(noGroup.code).toBe(5);
    expect(noGroup.stderr).toContain('name the group');
    const missing = await cli(['peek', '--url', url(), '-s', 'nope', '-g', GROUP]);
    expect(missing.code, missing.stderr).toBe(4);
    for (const r of [list, noGroup, missing]) expect(r.stdout + r.stderr).not.toContain(ROLE);
  });

  it('RocketMQ 5 gRPC and native Pulsar: each command is not on this flavour, with the reason', {
    timeout: 120_000,
  }, async () => {
    const grpc = `rocketmq://${TOKEN}:${ROLE}@${emulator.endpoints.rocketmq}`;
    for (const command of ['list', 'stats', 'purge', 'peek']) {
      const r = await cli([command, '--url', grpc, '-s', TOPIC, '-g', GROUP, '--yes']);
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toContain(`switchyard ${command} is not on this flavour: the rocketmq driver`);
      expect(r.stderr).toContain('gRPC protocol has no management calls');
    }
    // Said before connecting: nothing listens on port 9 and pulsar-client need not be there.
    const pulsar = await cli(['peek', '--url', 'pulsar://127.0.0.1:9', '-s', 't', '-g', 'g', '--json']);
    expect(pulsar.code, pulsar.stdout).toBe(5);
    expect(JSON.parse(pulsar.stdout)).toMatchObject({
      error: {
        code: 'UNSUPPORTED',
        message: expect.stringContaining(
          'switchyard peek is not on this flavour: the pulsar driver cannot read messages without taking them (pulsar-client has no management calls',
        ),
      },
    });
  });
});
