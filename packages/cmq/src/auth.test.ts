// Wrong credentials → UNAUTHENTICATED on every path (send, receive, management), and the secret
// never appears in any rendering of the error.

import { inspect } from 'node:util';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectTo, startTestEmulator, TEST_SECRET_ID } from '../test-kit/emulator.js';

const WRONG_KEY = 'wrong-Secret-Qx81mZt0-distinctive';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
  emulator.engines.cmq.createQueue('auth-q');
});
afterAll(() => emulator.stop());

function rendered(error: unknown): string {
  const e = error as Error;
  return [
    String(e),
    e.message,
    e.stack,
    inspect(e, { depth: 10 }),
    JSON.stringify(e),
    inspect(e.cause, { depth: 10 }),
  ].join('\n');
}

it('wrong SecretKey: send, receive and management fail UNAUTHENTICATED, not retried, secret never shown', async () => {
  const broker = await connectTo(emulator, { secretKey: WRONG_KEY, manageTopology: true });
  try {
    const producer = await broker.producer('auth-q');
    const sendError = await producer.send('x').catch((e: unknown) => e);
    expect(sendError).toMatchObject({ code: 'UNAUTHENTICATED', retryable: false, driver: 'cmq' });

    const mgmtError = await broker.consumer('auth-q').catch((e: unknown) => e);
    expect(mgmtError).toMatchObject({ code: 'UNAUTHENTICATED', retryable: false });

    const plain = await connectTo(emulator, { secretKey: WRONG_KEY });
    const consumer = await plain.consumer('auth-q');
    const receiveError = await consumer.receive({ waitMs: 3_000 }).catch((e: unknown) => e);
    expect(receiveError).toMatchObject({ code: 'UNAUTHENTICATED' });
    await plain.close();

    for (const error of [sendError, mgmtError, receiveError]) {
      const text = rendered(error);
      expect(text).not.toContain(WRONG_KEY);
      expect(text).toContain('UNAUTHENTICATED');
    }
  } finally {
    await broker.close();
  }
});

it('an unknown SecretId is UNAUTHENTICATED too', async () => {
  const broker = await connectTo(emulator, { secretId: `${TEST_SECRET_ID}-nope` });
  try {
    const producer = await broker.producer('auth-q');
    await expect(producer.send('x')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  } finally {
    await broker.close();
  }
});
