// `switchyard stats / purge / list / peek` as the real bin: RabbitMQ counts and purges a group's
// queue over plain AMQP (passive declare, queue.purge) and has no list or peek; CMQ (emulator) has
// list, stats and purge through the Cloud API, Pulsar over HTTP through the TDMQ API (its purge a
// skip); none of them has a peek, and RocketMQ 5 gRPC has nothing: "not on this flavour", exit 5,
// with the driver's reason. RocketMQ 4.x Remoting and peek: test/cli-peek.test.ts.

import { connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, deleteRabbit } from './cli-support.js';

const RABBIT = 'amqp://guest:guest@127.0.0.1:5672';
const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const exchange = `cli-admin-${run}`;

const SECRET_ID = 'AKIDCLIADMIN';
const SECRET_KEY = 'cli-admin-key-41c2';

let emulator: RunningEmulator;
const cmqUrl = () =>
  `cmq+http://${SECRET_ID}:${SECRET_KEY}@${new URL(emulator.endpoints.cmq).host}?${new URLSearchParams({
    region: 'ap-guangzhou',
    managementEndpoint: emulator.endpoints.api,
  })}`;

beforeAll(async () => {
  emulator = await startEmulator({
    credentials: [{ secretId: 'AKIDCLIADMIN', secretKey: 'cli-admin-key-41c2' }],
  });
});

afterAll(async () => {
  await emulator?.stop();
  await deleteRabbit({ [exchange]: ['billing'] });
});

describe('switchyard stats / purge / list', () => {
  it('RabbitMQ: stats counts the group queue, purge --yes empties it, list is not on this flavour', {
    timeout: 120_000,
  }, async () => {
    // The group's queue exists once a consumer of the group was opened.
    const broker = await connect(RABBIT);
    await (await broker.consumer(exchange, { group: 'billing' })).close();
    await (await broker.producer(exchange)).send(['a', 'b', 'c']);
    await broker.close();
    const stats = await cli(['stats', '--url', RABBIT, '-s', exchange, '-g', 'billing', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toEqual({ name: `${exchange}.billing`, ready: 3, consumers: 0 });
    const refused = await cli(['purge', '--url', RABBIT, '-s', exchange, '-g', 'billing']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('add --yes');
    const purged = await cli(['purge', '--url', RABBIT, '-s', exchange, '-g', 'billing', '--yes', '--json']);
    expect(purged.code, purged.stderr).toBe(0);
    expect(JSON.parse(purged.stdout)).toEqual({ purged: 3 });
    const after = await cli(['stats', '--url', RABBIT, '-s', exchange, '-g', 'billing']);
    expect(after.stdout.trim()).toBe(`${exchange}.billing ready=0 consumers=0`);
    const missing = await cli(['stats', '--url', RABBIT, '-s', exchange, '-g', 'nobody']);
    expect(missing.code).toBe(4);
    const list = await cli(['list', '--url', RABBIT]);
    expect(list.code).toBe(5);
    expect(list.stderr).toContain('switchyard list is not on this flavour: the rabbitmq driver cannot list');
    const peek = await cli(['peek', '--url', RABBIT, '-s', exchange, '-g', 'billing']);
    expect(peek.code).toBe(5);
    expect(peek.stderr).toContain(
      'switchyard peek is not on this flavour: the rabbitmq driver cannot read messages without taking them (AMQP 0-9-1',
    );
  });

  it('CMQ (emulator): list names queues and topics, stats counts a queue, purge --yes clears it', {
    timeout: 120_000,
  }, async () => {
    const queue = `cli-admin-q-${run}`;
    emulator.engines.cmq.createQueue(queue);
    const url = cmqUrl();
    const broker = await connect(url);
    await (await broker.producer(queue)).send(['x', 'y']);
    await broker.close();
    const list = await cli(['list', '--url', url, '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { destinations: unknown[] }).destinations).toContainEqual({
      name: queue,
      kind: 'queue',
    });
    const stats = await cli(['stats', '--url', url, '-s', queue, '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toEqual({ name: queue, ready: 2, inFlight: 0 });
    const purged = await cli(['purge', '--url', url, '-s', queue, '--yes']);
    expect(purged.code, purged.stderr).toBe(0);
    expect(purged.stdout.trim()).toBe(`purged ${queue}`);
    const after = await cli(['stats', '--url', url, '-s', queue, '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({ ready: 0 });
    const missing = await cli(['stats', '--url', url, '-s', `${queue}-none`]);
    expect(missing.code).toBe(4);
    const peek = await cli(['peek', '--url', url, '-s', queue]);
    expect(peek.code).toBe(5);
    expect(peek.stderr).toContain('CMQ has no action that reads a message without receiving it');
    for (const r of [list, stats, purged, after, missing, peek])
      expect(r.stdout + r.stderr).not.toContain(SECRET_KEY);
  });

  it('Pulsar over HTTP (emulator): list names topics, stats gives each group its backlog, purge moves a group to now', {
    timeout: 120_000,
  }, async () => {
    const host = new URL(emulator.endpoints.api).host;
    const url = `pulsar-http+http://${SECRET_ID}:${SECRET_KEY}@${host}?region=ap-guangzhou&cluster=pulsar-emulator&namespace=default`;
    const topic = `cli-admin-t-${run}`;
    const broker = await connect(url);
    for (const group of ['a', 'b']) await (await broker.consumer(topic, { group })).close();
    await (await broker.producer(topic)).send(['1', '2', '3']);
    await broker.close();
    const list = await cli(['list', '--url', url, '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(
      (JSON.parse(list.stdout) as { destinations: Array<{ name: string }> }).destinations.map((d) => d.name),
    ).toContain(topic);
    const stats = await cli(['stats', '--url', url, '-s', topic, '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ groups: { a: { ready: 3 }, b: { ready: 3 } } });
    const purged = await cli(['purge', '--url', url, '-s', topic, '-g', 'a', '--yes', '--json']);
    expect(purged.code, purged.stderr).toBe(0);
    expect(JSON.parse(purged.stdout)).toEqual({ purged: 3, effect: 'skip' });
    const after = await cli(['stats', '--url', url, '-s', topic, '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({ groups: { a: { ready: 0 }, b: { ready: 3 } } });
    for (const r of [list, stats, purged, after]) expect(r.stdout + r.stderr).not.toContain(SECRET_KEY);
  });

  it('RocketMQ: stats is not on this flavour (exit 5, --json says UNSUPPORTED)', async () => {
    const url = `rocketmq://${SECRET_ID}:${SECRET_KEY}@${emulator.endpoints.rocketmq}`;
    const stats = await cli(['stats', '--url', url, '-s', 'orders', '--json']);
    expect(stats.code, stats.stdout).toBe(5);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      ok: false,
      exitCode: 5,
      error: {
        code: 'UNSUPPORTED',
        message: expect.stringContaining('not on this flavour: the rocketmq driver'),
      },
    });
    expect(stats.stdout).not.toContain(SECRET_KEY);
  });
});
