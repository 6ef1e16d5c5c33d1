// Remoting sends of mixed sizes against the emulator: small messages travel in SEND_BATCH_MESSAGE
// batches, a large one (or a batch's lone message) in a SEND_MESSAGE_V2 of its own; every body,
// id and header arrives intact whichever way it went.
import { randomBytes } from 'node:crypto';
import type { Broker } from '@switchyard/core';
import { connect } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullName, startTestEmulator } from '../../test-kit/emulator.js';
import { remotingConfig } from '../../test-kit/remoting.js';

let emulator: RunningEmulator;
let broker: Broker;

beforeAll(async () => {
  emulator = await startTestEmulator();
  broker = await connect(remotingConfig(emulator));
});
afterAll(async () => {
  await broker?.close({ timeoutMs: 5_000 });
  await emulator?.stop();
});

describe('rocketmq remoting producer', () => {
  it('sends small messages in batches and large ones alone, every body intact', async () => {
    emulator.engines.rocketmq.createTopic(fullName('sizes'), { type: 'MIXED', queues: 3 });
    const producer = await broker.producer('sizes');
    const bodies = [
      ...Array.from({ length: 7 }, (_, i) => randomBytes(100 + i)),
      randomBytes(300 * 1024),
      randomBytes(1024 * 1024),
      randomBytes(64 * 1024),
    ];
    const receipts = await Promise.all(
      bodies.map((body, i) => producer.send({ body, headers: { n: String(i) } })),
    );
    const consumer = await broker.consumer('sizes', { group: 'g-sizes', startFrom: 'earliest' });
    const got = new Map<string, { body: Uint8Array; n: string | undefined }>();
    while (got.size < bodies.length) {
      const batch = await consumer.receive({ max: bodies.length, waitMs: 10_000 });
      expect(batch.length).toBeGreaterThan(0);
      for (const m of batch) {
        got.set(m.id, { body: m.body, n: m.headers.n });
        await m.ack();
      }
    }
    for (const [i, receipt] of receipts.entries()) {
      const m = got.get(receipt.messageId);
      expect(m?.n).toBe(String(i));
      expect(Buffer.from(m!.body).equals(bodies[i]!)).toBe(true);
    }
    await consumer.close();
  });
});
