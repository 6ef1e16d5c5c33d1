import { describe, expect, it } from 'vitest';
import { batchEnd, outgoingBytes, splitBatches } from './batch-limits.js';
import { connect } from './connect.js';
import type { Consumer } from './consumer.js';
import type { DriverModule } from './driver.js';
import { memoryDriver } from './memory/driver.js';
import type { Outgoing } from './message-types.js';
import { registerDriver } from './registry.js';

const limits = { maxCount: 16, maxBytes: 1_048_576 };
const item = (index: number, bytes: number, key = '') => ({ index, bytes, key });
const size = (i: { bytes: number }) => i.bytes;

describe('splitBatches', () => {
  it('cuts by count', () => {
    const chunks = splitBatches(
      Array.from({ length: 40 }, (_, i) => item(i, 10)),
      limits,
      size,
    );
    expect(chunks.map((c) => c.length)).toEqual([16, 16, 8]);
    expect(chunks.flat().map((i) => i.index)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('cuts before a batch passes the byte limit; exactly at the limit stays one batch', () => {
    const chunks = splitBatches(
      Array.from({ length: 7 }, (_, i) => item(i, 300_000)),
      limits,
      size,
    );
    expect(chunks.map((c) => c.length)).toEqual([3, 3, 1]);
    expect(splitBatches([item(0, 524_288), item(1, 524_288)], limits, size)).toHaveLength(1);
  });

  it('sends an item larger than the limit alone instead of stalling', () => {
    const chunks = splitBatches([item(0, 10), item(1, 2_000_000), item(2, 10)], limits, size);
    expect(chunks.map((c) => c.map((i) => i.index))).toEqual([[0], [1], [2]]);
  });

  it('never mixes keys in one batch, keeping first-seen order', () => {
    const items = [item(0, 1, 'a'), item(1, 1, 'b'), item(2, 1, 'a'), item(3, 1, 'b'), item(4, 1, 'c')];
    const chunks = splitBatches(items, limits, size, (i) => i.key);
    expect(chunks.map((c) => c.map((i) => i.index))).toEqual([[0, 2], [1, 3], [4]]);
  });

  it('batchEnd with no byte limit cuts by count alone without measuring', () => {
    const measured: number[] = [];
    const end = batchEnd([1, 2, 3, 4, 5], 1, { maxCount: 3, maxBytes: Number.POSITIVE_INFINITY }, (n) => {
      measured.push(n);
      return n;
    });
    expect(end).toBe(4);
    expect(measured).toEqual([]);
  });
});

describe('outgoingBytes', () => {
  it('counts the body and every string that travels with it, as UTF-8', () => {
    const message: Outgoing = {
      id: 'not-counted',
      body: new Uint8Array(10),
      contentType: 'text/plain',
      headers: { ab: 'cd', é: 'ü' },
      key: 'k1',
      keys: ['k1', 'k2'],
      tags: ['t'],
      routingKey: 'r.k',
      orderingKey: 'o',
      delayMs: undefined,
      publishedAt: 0,
    };
    // 10 + (2+2) + (2+2) + (2+2) + 1 + 3 + 1
    expect(outgoingBytes(message)).toBe(27);
  });
});

/** The texts of the next `count` messages, acked. */
async function receiveTexts(consumer: Consumer, count: number): Promise<string[]> {
  const got: string[] = [];
  while (got.length < count) {
    for (const m of await consumer.receive({ max: 20, waitMs: 5_000 })) {
      got.push(m.text());
      await m.ack();
    }
  }
  return got;
}

/** The memory driver with a 1,000-byte batch limit; each sendBatch's message sizes go to `sizes`. */
function bytesLimited(name: string, sizes: number[][]): DriverModule {
  return {
    ...memoryDriver,
    name,
    schemes: [name],
    async create(config, context) {
      const inner = await memoryDriver.create(memoryDriver.parseConfig(config), context);
      return {
        name,
        capabilities: Object.freeze({ ...inner.capabilities, maxBatchBytes: 1_000 }),
        native: inner.native,
        close: () => inner.close(),
        openConsumer: (source, options) => inner.openConsumer(source, options),
        async openProducer(destination, options) {
          const producer = await inner.openProducer(destination, options);
          return {
            native: producer.native,
            close: () => producer.close(),
            sendBatch: (messages) => {
              sizes.push(messages.map(outgoingBytes));
              return producer.sendBatch(messages);
            },
          };
        },
      };
    },
  };
}

describe('Producer batches by bytes', () => {
  it('splits one send into driver batches within maxBatchBytes, and every message arrives in order', async () => {
    const sizes: number[][] = [];
    const name = 'bytes-limited';
    registerDriver(bytesLimited(name, sizes));
    const broker = await connect({ driver: name, name: `batch-bytes-${process.pid}` });
    try {
      const consumer = await broker.consumer('t', { group: 'g' });
      const producer = await broker.producer('t');
      const bodies = Array.from({ length: 12 }, (_, i) => `${i}`.padEnd(i === 5 ? 1_500 : 300, '.'));
      await producer.send(bodies.map((body) => ({ body, headers: { h: 'v' } })));
      // Messages of ~302 bytes: three fit in 1,000; the 1,502-byte one goes alone.
      for (const batch of sizes) {
        if (batch.length > 1) expect(batch.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1_000);
      }
      expect(sizes.flat()).toHaveLength(12);
      expect(sizes.some((b) => b.length > 1)).toBe(true);
      expect(sizes.find((b) => b.includes(1_502))).toEqual([1_502]);
      expect(await receiveTexts(consumer, bodies.length)).toEqual(bodies);
    } finally {
      await broker.close();
    }
  });

  it('cuts concurrent single sends within maxBatchBytes (each measured as the batch is cut), each with its own receipt', async () => {
    const sizes: number[][] = [];
    const name = 'bytes-limited-singles';
    registerDriver(bytesLimited(name, sizes));
    const broker = await connect({ driver: name, name: `batch-bytes-singles-${process.pid}` });
    try {
      const consumer = await broker.consumer('t', { group: 'g' });
      const producer = await broker.producer('t', { maxInFlight: 1 });
      const bodies = Array.from({ length: 12 }, (_, i) => `${i}`.padEnd(i === 7 ? 1_200 : 300, '.'));
      // One send() per body in one tick: the first goes alone, the rest queue and are cut by bytes.
      const receipts = await Promise.all(bodies.map((body) => producer.send(body)));
      expect(new Set(receipts.map((r) => r.messageId)).size).toBe(12);
      for (const batch of sizes) {
        if (batch.length > 1) expect(batch.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1_000);
      }
      expect(sizes.flat()).toEqual(bodies.map((b) => b.length));
      expect(sizes.some((b) => b.length === 3)).toBe(true);
      expect(sizes.find((b) => b.includes(1_200))).toEqual([1_200]);
      expect(await receiveTexts(consumer, bodies.length)).toEqual(bodies);
    } finally {
      await broker.close();
    }
  });
});
