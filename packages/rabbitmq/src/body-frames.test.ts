// writeBodiesInPlace on the real broker (127.0.0.1:5672): the driver's large bodies leave as frames
// that point into the body (no body-sized buffer is made for them), arrive byte for byte, in one
// frame or several; a publish on the native channel (the escape hatch) still copies, as amqplib does.

import { randomBytes } from 'node:crypto';
import { outgoing } from '@switchyard/conformance/outgoing';
import { silentLogger } from '@switchyard/core';
import amqp, { type ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IN_PLACE_MIN_BYTES, writeBodiesInPlace } from './body-frames.js';
import { driver } from './driver.js';

const URL_ = 'amqp://guest:guest@127.0.0.1:5672';

/** The rabbitmq driver on the local broker, as core would create it. */
const openDriver = () =>
  driver.create(driver.fromUrl(new URL(URL_)), { logger: silentLogger, status: () => {} });

describe('body frames written in place', () => {
  const name = `body-frames-${randomBytes(3).toString('hex')}`;
  let admin: amqp.ChannelModel;
  let setup: amqp.Channel;

  beforeAll(async () => {
    admin = await amqp.connect(URL_);
    setup = await admin.createChannel();
    await setup.assertExchange(name, 'topic', { durable: false, autoDelete: false });
    await setup.assertQueue(name, { durable: false, arguments: { 'x-queue-type': 'classic' } });
    await setup.bindQueue(name, name, '#');
  });

  afterAll(async () => {
    await setup.deleteQueue(name).catch(() => {});
    await setup.deleteExchange(name).catch(() => {});
    await admin.close();
  });

  // Each test starts from an empty queue (one that failed midway may have left messages).
  beforeEach(async () => {
    await setup.purgeQueue(name);
  });

  /** The next `count` bodies in the queue, in order. */
  async function received(count: number): Promise<Buffer[]> {
    const bodies: Buffer[] = [];
    for (;;) {
      const m = await setup.get(name, { noAck: true });
      if (m !== false) bodies.push(m.content);
      if (bodies.length === count) return bodies;
      if (m === false) await new Promise((r) => setImmediate(r));
    }
  }

  it('sends large bodies without a body-sized buffer, byte for byte, in one frame or several', async () => {
    const instance = await openDriver();
    try {
      const producer = await instance.openProducer(name, { driverOptions: {} });
      // Under the threshold (amqplib's copy), one frame in place, and three frames of 128 KiB
      // (frame_max 131072) in place.
      const bodies = [randomBytes(1_000), randomBytes(64 * 1024), randomBytes(300 * 1024)];
      await producer.sendBatch([outgoing({ id: 'warm', body: randomBytes(10) })]);
      await received(1);
      const allocated: number[] = [];
      const alloc = Buffer.alloc;
      Buffer.alloc = ((size: number, ...rest: unknown[]) => {
        allocated.push(size);
        return (alloc as (...args: unknown[]) => Buffer).call(Buffer, size, ...rest);
      }) as typeof Buffer.alloc;
      let results: Awaited<ReturnType<typeof producer.sendBatch>>;
      try {
        results = await producer.sendBatch(bodies.map((body, i) => outgoing({ id: `m-${i}`, body })));
      } finally {
        Buffer.alloc = alloc;
      }
      expect(results.filter((r) => r instanceof Error).map(String)).toEqual([]);
      // amqplib's copy makes one zero-filled buffer per body frame (frame size = payload + 8).
      expect(allocated.filter((size) => size >= IN_PLACE_MIN_BYTES)).toEqual([]);
      const got = await received(bodies.length);
      expect(got.map((b) => b.length)).toEqual(bodies.map((b) => b.length));
      for (let i = 0; i < bodies.length; i++) expect(got[i]!.equals(bodies[i]!)).toBe(true);
      await producer.close();
    } finally {
      await instance.close();
    }
  });

  it("leaves the native channel's publishes copying, as amqplib does", async () => {
    const instance = await openDriver();
    try {
      const producer = await instance.openProducer(name, { driverOptions: {} });
      await producer.sendBatch([outgoing({ id: 'open', body: randomBytes(10) })]);
      await received(1);
      const native = producer.native as ConfirmChannel;
      const body = randomBytes(64 * 1024);
      const sent = Buffer.from(body);
      const confirmed = new Promise<void>((resolve, reject) =>
        native.publish(name, '', body, {}, (error) => (error ? reject(error) : resolve())),
      );
      // amqplib has copied the body by now; in place, this would reach the wire.
      body.fill(0);
      await confirmed;
      const [got] = await received(1);
      expect(got!.equals(sent)).toBe(true);
      await producer.close();
    } finally {
      await instance.close();
    }
  });

  it('leaves a connection without amqplib 2.x internals as it is', () => {
    expect(writeBodiesInPlace(undefined)).toBe(false);
    expect(writeBodiesInPlace({ sendContent() {} })).toBe(false);
  });
});
