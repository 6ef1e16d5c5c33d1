// examples/nestjs boots a real Nest microservice on Switchyard and talks to it with the Nest client
// over each flavour, changing nothing but the URL (or config object) it is given: a quote request
// answered (@MessagePattern), an RpcException carried back to the caller, and an event handled and
// acked by hand through the context (@EventPattern, noAck: false).

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../examples/nestjs/main.js';
import { emulatorConfig, startTestEmulator } from '../packages/cmq/test-kit/emulator.js';
import {
  emulatorReplyTopics,
  fullName,
  testConfig as rocketConfig,
  startTestEmulator as startRocketEmulator,
} from '../packages/rocketmq/test-kit/emulator.js';
import { remotingConfig } from '../packages/rocketmq/test-kit/remoting.js';
import { type PulsarHttpEnv, startPulsarHttpEnv } from './pulsar-http-support.js';
import { createTestVhost, type TestVhost } from './rabbitmq-helpers.js';

const EXPECTED = {
  quote: { total: 11, lines: 2 },
  rejected: 'an order needs at least one line',
  placed: ['order-1'],
};

let vhost: TestVhost;
let cmq: RunningEmulator;
let pulsar: PulsarHttpEnv;
let rocket: RunningEmulator;
beforeAll(async () => {
  vhost = await createTestVhost('nestjs-example');
  cmq = await startTestEmulator();
  pulsar = await startPulsarHttpEnv();
  rocket = await startRocketEmulator();
});
afterAll(async () => {
  await vhost?.cleanup();
  await cmq?.stop();
  await pulsar?.close();
  await rocket?.stop();
});

describe('examples/nestjs on every flavour, by its URL alone', () => {
  it('memory', async () => {
    expect(await run(`memory://nestjs-${randomUUID()}`)).toEqual(EXPECTED);
  });

  it('RabbitMQ', async () => {
    expect(await run(vhost.url)).toEqual(EXPECTED);
  });

  it('CMQ (emulator, envelope bodies, topology managed)', async () => {
    expect(await run(emulatorConfig(cmq, { bodyMode: 'envelope', manageTopology: true }))).toEqual(EXPECTED);
  });

  it('TDMQ Pulsar over HTTP (emulator, envelope mode)', async () => {
    expect(await run(pulsar.url({ mode: 'envelope' }))).toEqual(EXPECTED);
  });

  it('RocketMQ 5 over gRPC (emulator; topics made by the operator, reply topics by the hooks)', async () => {
    for (const topic of ['orders-quote', 'orders-placed'])
      rocket.engines.rocketmq.createTopic(fullName(topic), { type: 'MIXED' });
    expect(await run(rocketConfig(rocket, { replyTopics: emulatorReplyTopics(rocket) }))).toEqual(EXPECTED);
  });

  it('RocketMQ 4.x over Remoting (a cluster of its own; topics made by the operator, reply topics by the hooks)', async () => {
    // TDMQ's 4.x clusters speak only Remoting and its 5.x clusters only gRPC: a 4.x cluster is a
    // broker of its own, not the gRPC case's groups seen through another protocol.
    const cluster = await startRocketEmulator();
    try {
      for (const topic of ['orders-quote', 'orders-placed'])
        cluster.engines.rocketmq.createTopic(fullName(topic), { type: 'MIXED' });
      expect(await run(remotingConfig(cluster, { replyTopics: emulatorReplyTopics(cluster) }))).toEqual(
        EXPECTED,
      );
    } finally {
      await cluster.stop();
    }
  });

  it('MQTT 5 (Mosquitto on 127.0.0.1:1883; sessions of this run only)', async () => {
    const prefix = `nest-${randomUUID().slice(0, 8)}-`;
    expect(await run(`mqtt://127.0.0.1:1883?clientIdPrefix=${prefix}`)).toEqual(EXPECTED);
  });

  it('runs as a program, SWITCHYARD_URL picking the flavour', { timeout: 90_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      'npx',
      ['tsx', '--conditions=switchyard-source', 'examples/nestjs/main.ts'],
      { env: { ...process.env, SWITCHYARD_URL: vhost.url }, timeout: 80_000 },
    );
    expect(stdout).toContain('quote: total 11 for 2 lines');
    expect(stdout).toContain('empty order: an order needs at least one line');
    expect(stdout).toContain('placed: order-1');
  });
});
