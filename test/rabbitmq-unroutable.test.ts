// The unroutable default on the real broker: a message sent to an exchange no queue is bound to
// (for its routing key) is returned by the broker and never stored. With no `unroutable` setting
// the send fails NOT_FOUND, not retryable — so the portable layer does not retry it either: with
// a retry policy that would keep trying for ten minutes, a retried publish would leave the send
// pending past the test's timeout. Nothing is dropped behind a resolved send.

import { connect } from '@switchyard/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestVhost, type TestVhost } from './rabbitmq-helpers.js';

let test: TestVhost;
beforeAll(async () => {
  test = await createTestVhost('unroutable');
});
afterAll(async () => {
  await test?.cleanup();
});

it('by default a send nobody is bound for fails NOT_FOUND at once, and is not retried', async () => {
  const broker = await connect(test.url);
  try {
    const producer = await broker.producer('unbound', {
      retry: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 1_000_000, deadlineMs: 600_000 },
    });
    const error = await producer.send({ body: 'lost?', routingKey: 'a.b' }).then(
      () => 'sent',
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'NOT_FOUND',
      retryable: false,
      details: { unroutable: true, exchange: 'unbound' },
    });
    expect(String(error)).toContain('no queue is bound for routing key "a.b"');
    // Once a queue is bound the same send is stored and delivered: the error was about routing.
    const consumer = await broker.consumer('unbound', { group: 'late' });
    await producer.send({ body: 'routed', routingKey: 'a.b' });
    const [m] = await consumer.receive({ waitMs: 5_000 });
    expect(m?.text()).toBe('routed');
    await m?.ack();
  } finally {
    await broker.close();
  }
});
