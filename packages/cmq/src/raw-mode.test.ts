// Raw body mode (the default): interop with other CMQ producers and consumers, text only.

import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTo, startTestEmulator } from '../test-kit/emulator.js';
import type { CmqNative } from './driver.js';
import { delaySeconds } from './queue-model.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(() => emulator.stop());

describe('raw body mode', () => {
  it('sends the body byte for byte and reads foreign messages as plain bodies', async () => {
    const engine = emulator.engines.cmq;
    engine.createQueue('raw-q');
    const broker = await connectTo(emulator);
    try {
      expect(broker.capabilities).toMatchObject({ headers: 'none', binaryBodies: false });
      const producer = await broker.producer('raw-q');
      const text = '{"order":1} & ü=1+2 %20 @at';
      await producer.send(text);
      const [stored] = await engine.receiveMessages('raw-q', { max: 1, waitSeconds: 0 });
      expect(stored?.msgBody).toBe(text);
      engine.deleteMessage('raw-q', stored!.receiptHandle);

      engine.sendMessage('raw-q', 'from the Python SDK');
      const consumer = await broker.consumer('raw-q');
      const [m] = await consumer.receive({ waitMs: 3_000 });
      expect(m?.text()).toBe('from the Python SDK');
      expect(m?.deliveryAttempt).toBe(1);
      expect(m?.headers).toEqual({});
      expect(m?.unwrap<{ msgId: string }>().msgId).toBe(m?.id);
      await m?.ack();
    } finally {
      await broker.close();
    }
  });

  it('rejects non-UTF-8 bodies and message keys before any request', async () => {
    emulator.engines.cmq.createQueue('raw-bin');
    const broker = await connectTo(emulator);
    try {
      const http = broker.unwrap<CmqNative>().http;
      const producer = await broker.producer('raw-bin');
      const before = http.requests;
      await expect(producer.send(new Uint8Array([0xff, 0xfe, 0x00]))).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('not UTF-8'),
      });
      await expect(producer.send({ body: 'x', key: 'k' })).rejects.toMatchObject({
        code: 'UNSUPPORTED',
        message: expect.stringContaining('envelope'),
      });
      expect(http.requests).toBe(before);
    } finally {
      await broker.close();
    }
  });
});

describe('raw-mode dead-lettering', () => {
  it('moves the body byte for byte after maxDeliveries (the reason cannot travel in raw mode)', async () => {
    emulator.engines.cmq.createQueue('raw-work');
    emulator.engines.cmq.createQueue('raw-dlq');
    const broker = await connectTo(emulator, { manageTopology: true });
    try {
      const consumer = await broker.consumer('raw-work', {
        maxDeliveries: 2,
        deadLetter: 'raw-dlq',
        visibilityTimeoutMs: 1_000,
      });
      const producer = await broker.producer('raw-work');
      await producer.send('poison ü');
      const attempts: number[] = [];
      const stop = new AbortController();
      const run = consumer.run(
        (m) => {
          attempts.push(m.deliveryAttempt);
          throw new Error('bad payload');
        },
        { signal: stop.signal },
      );
      const dlq = await broker.consumer('raw-dlq');
      const [dead] = await dlq.receive({ waitMs: 8_000 });
      stop.abort();
      await run;
      expect(dead?.text()).toBe('poison ü');
      expect(attempts).toEqual([1, 2]);
      await dead?.ack();
      const left = emulator.engines.cmq.getQueueAttributes('raw-work');
      expect(left.activeMsgNum + left.inactiveMsgNum).toBe(0);
    } finally {
      await broker.close();
    }
  });
});

describe('limits', () => {
  it('raw mode: a body over the queue limit fails before any request, naming the limit', async () => {
    emulator.engines.cmq.createQueue('big-raw', { maxMsgSize: 2_048 });
    const broker = await connectTo(emulator, { maxMessageBytes: 2_048 });
    try {
      expect(broker.capabilities.maxMessageBytes).toBe(2_048);
      const http = broker.unwrap<CmqNative>().http;
      const producer = await broker.producer('big-raw');
      const before = http.requests;
      await expect(producer.send('x'.repeat(2_049))).rejects.toMatchObject({
        code: 'MESSAGE_TOO_LARGE',
        message: expect.stringContaining('2048'),
      });
      expect(http.requests).toBe(before);
      await producer.send('x'.repeat(2_048));
    } finally {
      await broker.close();
    }
  });

  it('envelope mode: every body up to the advertised limit fits the queue limit, binary or escaped text', async () => {
    emulator.engines.cmq.createQueue('big-env', { maxMsgSize: 2_048 });
    const broker = await connectTo(emulator, { bodyMode: 'envelope', maxMessageBytes: 2_048 });
    try {
      // (2048 - min(4096, 2048/4)) × 3/4: the rest is room for base64 and the envelope's metadata.
      const limit = broker.capabilities.maxMessageBytes;
      expect(limit).toBe(1_152);
      const producer = await broker.producer('big-env');
      const bodies = [
        new Uint8Array(limit).fill(0xff),
        new TextEncoder().encode('"'.repeat(limit)), // 2× as JSON text: goes base64
        new TextEncoder().encode('\u0001'.repeat(limit)), // 6× as JSON text
      ];
      // A dead-letter copy's headers ride along too.
      const headers = { 'x-switchyard-dead-letter-reason': 'r'.repeat(200), 'x-tenant': 'acme' };
      for (const body of bodies) await producer.send({ body, headers });
      const consumer = await broker.consumer('big-env');
      const got: Uint8Array[] = [];
      while (got.length < bodies.length) {
        for (const m of await consumer.receive({ max: 3, waitMs: 3_000 })) {
          got.push(m.body);
          expect(m.headers).toEqual(headers);
          await m.ack();
        }
      }
      const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
      expect(got.map(hex).sort()).toEqual(bodies.map(hex).sort());
    } finally {
      await broker.close();
    }
  });

  it('envelope mode: a body over the advertised limit, or an envelope over the queue limit, fails before any request', async () => {
    emulator.engines.cmq.createQueue('big-q', { maxMsgSize: 2_048 });
    const broker = await connectTo(emulator, { bodyMode: 'envelope', maxMessageBytes: 2_048 });
    try {
      const http = broker.unwrap<CmqNative>().http;
      const producer = await broker.producer('big-q');
      const before = http.requests;
      await expect(producer.send('x'.repeat(1_153))).rejects.toMatchObject({
        code: 'MESSAGE_TOO_LARGE',
        message: expect.stringContaining('1152'),
      });
      // Fits as a body, not with these headers in its envelope: refused by size and limit.
      const send = producer.send({ body: 'x'.repeat(1_000), headers: { big: 'h'.repeat(1_500) } });
      await expect(send).rejects.toMatchObject({
        code: 'MESSAGE_TOO_LARGE',
        retryable: false,
        message: expect.stringMatching(
          /is \d+ bytes in its envelope \(body 1000 bytes\); cmq accepts at most 2048 bytes/,
        ),
      });
      expect(http.requests).toBe(before);
    } finally {
      await broker.close();
    }
  });

  it('a batch with one bad message still sends the others and fails only that one', async () => {
    emulator.engines.cmq.createQueue('mixed-q');
    const broker = await connectTo(emulator, { bodyMode: 'envelope', maxMessageBytes: 2_048 });
    try {
      const producer = await broker.producer('mixed-q', { retry: { maxAttempts: 1 } });
      const results = await Promise.allSettled([
        producer.send('ok-1'),
        producer.send({ body: 'y'.repeat(1_000), headers: { big: 'h'.repeat(1_500) } }),
        producer.send('ok-2'),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(emulator.engines.cmq.getQueueAttributes('mixed-q').activeMsgNum).toBe(2);
    } finally {
      await broker.close();
    }
  });

  it('delayMs rounds up to whole delaySeconds, so a message is never early', () => {
    expect([0, 1, 999, 1_000, 1_001, 1_500, 60_000].map(delaySeconds)).toEqual([0, 1, 1, 1, 2, 2, 60]);
    expect(delaySeconds(undefined)).toBe(0);
  });

  it('a delayed send is invisible until its rounded-up delay', async () => {
    emulator.engines.cmq.createQueue('delay-q');
    const broker = await connectTo(emulator);
    try {
      const producer = await broker.producer('delay-q');
      await producer.send({ body: 'later', delayMs: 200 });
      const attrs = emulator.engines.cmq.getQueueAttributes('delay-q');
      expect(attrs.delayMsgNum).toBe(1);
    } finally {
      await broker.close();
    }
  });
});
