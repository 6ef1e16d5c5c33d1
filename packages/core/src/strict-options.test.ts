import { describe, expect, it } from 'vitest';
import { connect } from './connect.js';
import { nearestKey } from './strict-keys.js';

let stores = 0;
const store = () => `strict-options-${process.pid}-${stores++}`;

/** The error a call threw or rejected with. */
async function failure(call: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await call();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected the call to fail');
}

describe('strict message and option objects', () => {
  it('refuses an unknown message key, naming it and the nearest valid one; nothing of the send goes out', async () => {
    const broker = await connect(`memory://${store()}`);
    const producer = await broker.producer('t');
    const single = await failure(() => producer.send({ body: 'x', delay: 5 } as never));
    expect(single.code).toBe('INVALID_ARGUMENT');
    expect(single.message).toContain('message: unknown message key "delay" (did you mean "delayMs"?)');
    const batch = await failure(() => producer.send(['fine', { body: 'y', hedaers: { a: 'b' } } as never]));
    expect(batch.code).toBe('INVALID_ARGUMENT');
    expect(batch.message).toContain('message[1]: unknown message key "hedaers" (did you mean "headers"?)');
    await producer.send({ body: 'end', delayMs: 0, headers: { a: 'b' } });
    const consumer = await broker.consumer('t');
    const [first] = await consumer.receive({ waitMs: 60_000 });
    expect(first?.text()).toBe('end');
    await first!.ack();
    await broker.close();
  });

  it('refuses unknown send, receive and status option keys', async () => {
    const broker = await connect(`memory://${store()}`);
    const producer = await broker.producer('t');
    const consumer = await broker.consumer('t');
    const send = await failure(() => producer.send('x', { sigal: AbortSignal.abort() } as never));
    expect(send).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(send.message).toContain('send options: unknown option key "sigal" (did you mean "signal"?)');
    const receive = await failure(() => consumer.receive({ wait: 5 } as never));
    expect(receive).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(receive.message).toContain('unknown option key "wait" (did you mean "waitMs"?)');
    await broker.close();
  });

  it('refuses unknown producer and consumer option keys at any depth, and lets driverOptions through', async () => {
    const broker = await connect(`memory://${store()}`);
    const producer = await failure(() => broker.producer('t', { maxBatch: 5 } as never));
    expect(producer).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(producer.message).toContain('unknown option key "maxBatch" (did you mean "maxBatchSize"?)');
    const nested = await failure(() => broker.consumer('t', { retry: { initialDelay: 5 } } as never));
    expect(nested.message).toContain(
      'consumer options.retry: unknown option key "initialDelay" (did you mean "initialDelayMs"?)',
    );
    const consumer = await failure(() => broker.consumer('t', { concurency: 2 } as never));
    expect(consumer.message).toContain('(did you mean "concurrency"?)');
    // A driver's own bag is the driver's to check: any key passes the portable layer.
    await (await broker.producer('t', { driverOptions: { anything: 1 } })).close();
    await (await broker.consumer('t', { driverOptions: { whatever: true } })).close();
    await broker.close();
  });

  it('refuses an unknown connect option (CONFIG), naming the nearest', async () => {
    const error = await failure(() => connect(`memory://${store()}`, { loger: console } as never));
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain('unknown option key "loger" (did you mean "logger"?)');
  });

  it('suggests only a near key', () => {
    expect(nearestKey('delay', ['delayMs', 'id'])).toBe('delayMs');
    expect(nearestKey('Headers', ['headers', 'key'])).toBe('headers');
    expect(nearestKey('completelyDifferent', ['body', 'key'])).toBeUndefined();
  });
});
