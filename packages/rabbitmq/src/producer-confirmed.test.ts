// sendBatch's `confirmed` report on the real broker (127.0.0.1:5672, default vhost, names of this
// file's own): each message is reported once, at its confirm, with the receipt the batch returns;
// a mandatory message the broker returned (no queue bound) is never reported, it fails NOT_FOUND.

import { randomBytes } from 'node:crypto';
import { outgoing } from '@switchyard/conformance/outgoing';
import { silentLogger } from '@switchyard/core';
import type { Receipt } from '@switchyard/core/driver';
import amqp from 'amqplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { driver } from './driver.js';

const URL_ = 'amqp://guest:guest@127.0.0.1:5672';
const id = randomBytes(3).toString('hex');
const bound = `confirmed-bound-${id}`;
const unbound = `confirmed-unbound-${id}`;
let admin: amqp.ChannelModel;
let setup: amqp.Channel;

beforeAll(async () => {
  admin = await amqp.connect(URL_);
  setup = await admin.createChannel();
  await setup.assertExchange(bound, 'topic', { durable: false, autoDelete: false });
  await setup.assertExchange(unbound, 'topic', { durable: false, autoDelete: false });
  await setup.assertQueue(`${bound}.q`, { durable: false, arguments: { 'x-queue-type': 'classic' } });
  await setup.bindQueue(`${bound}.q`, bound, '#');
});
afterAll(async () => {
  await setup?.deleteQueue(`${bound}.q`).catch(() => {});
  await setup?.deleteExchange(bound).catch(() => {});
  await setup?.deleteExchange(unbound).catch(() => {});
  await admin?.close();
});

const message = (i: number) =>
  outgoing({ id: `m-${i}`, body: Buffer.from(`body ${i}`), contentType: 'text/plain' });

it('reports each confirmed message once, with the receipt the batch returns; never a returned one', async () => {
  const instance = await driver.create(driver.fromUrl(new URL(URL_)), {
    logger: silentLogger,
    status: () => {},
  });
  try {
    const producer = await instance.openProducer(bound, { driverOptions: {} });
    const reported = new Map<number, Receipt>();
    const messages = Array.from({ length: 300 }, (_, i) => message(i));
    const results = await producer.sendBatch(messages, undefined, (index, receipt) => {
      expect(reported.has(index)).toBe(false);
      reported.set(index, receipt);
    });
    expect(reported.size).toBe(messages.length);
    results.forEach((result, i) => {
      expect(result).toEqual({ messageId: `m-${i}` });
      expect(reported.get(i)).toBe(result);
    });

    // No queue bound: the broker returns the mandatory message before its confirm.
    const lost = await instance.openProducer(unbound, { driverOptions: {} });
    const none: number[] = [];
    const [refused] = await lost.sendBatch([message(0)], undefined, (index) => none.push(index));
    expect(none).toEqual([]);
    expect((refused as { code?: string }).code).toBe('NOT_FOUND');
    await lost.close();
    await producer.close();
  } finally {
    await instance.close();
  }
});
