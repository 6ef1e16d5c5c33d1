// corkEachFlush on the real broker (127.0.0.1:5672): what amqplib's muxer writes in one flush leaves
// the socket in a few writev calls, not one socket write per publish (as it did uncorked).

import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { outgoing } from '@switchyard/conformance/outgoing';
import { silentLogger } from '@switchyard/core';
import amqp, { type ChannelModel } from 'amqplib';
import { expect, it } from 'vitest';
import { driver } from './driver.js';

const URL_ = 'amqp://guest:guest@127.0.0.1:5672';

it('writes what one flush holds in a few socket calls, not one per publish', async () => {
  const instance = await driver.create(driver.fromUrl(new URL(URL_)), {
    logger: silentLogger,
    status: () => {},
  });
  const name = `cork-${randomBytes(3).toString('hex')}`;
  const admin = await amqp.connect(URL_);
  const setup = await admin.createChannel();
  await setup.assertExchange(name, 'topic', { durable: false, autoDelete: false });
  await setup.assertQueue(`${name}.q`, { durable: false, arguments: { 'x-queue-type': 'classic' } });
  await setup.bindQueue(`${name}.q`, name, '#');
  try {
    const producer = await instance.openProducer(name, { driverOptions: {} });
    await producer.sendBatch([message(-1)], undefined);
    const model = instance.native as ChannelModel;
    const socket = (model as unknown as { connection: { stream: Socket } }).connection.stream;
    let calls = 0;
    const socketCalls = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
    for (const name of ['_write', '_writev'] as const) {
      const original = socketCalls[name];
      socketCalls[name] = function (this: unknown, ...args: unknown[]) {
        calls++;
        return original.apply(this, args);
      };
    }
    const count = 300;
    const results = await producer.sendBatch(
      Array.from({ length: count }, (_, i) => message(i)),
      undefined,
    );
    expect(
      results
        .filter((r) => r instanceof Error)
        .map(String)
        .slice(0, 2),
    ).toEqual([]);
    // Uncorked: one socket call per publish (300 here).
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(count / 3);
    await producer.close();
  } finally {
    await instance.close();
    await setup.deleteQueue(`${name}.q`).catch(() => {});
    await setup.deleteExchange(name).catch(() => {});
    await admin.close();
  }
});

const message = (i: number) => outgoing({ id: `m-${i}`, body: randomBytes(256) });

it('corks every connection with one flush function, not a closure per connection', async () => {
  // Its optimized code then lives as long as the module; a closure's went with its connection.
  const open = () => driver.create(driver.fromUrl(new URL(URL_)), { logger: silentLogger, status: () => {} });
  const instances = [await open(), await open()];
  try {
    const flushes = instances.map(
      (instance) =>
        (instance.native as unknown as { connection: { muxer: { _readIncoming: unknown } } }).connection.muxer
          ._readIncoming,
    );
    expect(typeof flushes[0]).toBe('function');
    expect(flushes[1]).toBe(flushes[0]);
  } finally {
    for (const instance of instances) await instance.close();
  }
});
