// The consumer-lag gauge's source on Pulsar over HTTP: the subscription's MsgBacklog.

import { connect, silentLogger } from '@switchyard/core';
import { driver } from '@switchyard/pulsar-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PulsarHttpEnv, startPulsarHttpEnv } from './pulsar-http-support.js';

let env: PulsarHttpEnv;
beforeAll(async () => {
  env = await startPulsarHttpEnv();
});
afterAll(() => env.close());

describe('pulsar-http consumer backlog', () => {
  it("reports the subscription's backlog", async () => {
    const { driver: _name, ...config } = env.config();
    const instance = await driver.create(driver.parseConfig(config), {
      logger: silentLogger,
      status: () => {},
    });
    const topic = `backlog-${Date.now()}`;
    const consumer = await instance.openConsumer(topic, {
      group: 'lag',
      filter: {},
      prefetch: 1,
      visibilityTimeoutMs: undefined,
      startFrom: undefined,
      deadLetter: undefined,
      driverOptions: {},
    });
    expect(await consumer.backlog?.()).toBe(0);
    const broker = await connect(env.config());
    await (await broker.producer(topic)).send(['a', 'b', 'c']);
    expect(await consumer.backlog?.()).toBe(3);
    await consumer.close();
    expect(await consumer.backlog?.()).toBeUndefined();
    await broker.close();
    await instance.close();
  });
});
