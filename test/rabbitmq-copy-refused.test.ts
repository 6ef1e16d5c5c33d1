// When the user may not publish to the default exchange, a classic queue's redelivered message
// cannot be replaced by a copy carrying its attempt count (core's CopyNacks on the driver's
// requeueCopy). The copy's failure must never lose or strand the message: CopyNacks gives the
// original back (basic.nack), the driver says once that it counts per delivery from then on, and
// the redelivery is handed out counted (attempt 2), not as a first delivery.

import { connect } from '@switchyard/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestVhost, rabbitmqctl, type TestVhost, warningRecorder } from './rabbitmq-helpers.js';

let test: TestVhost;
beforeAll(async () => {
  test = await createTestVhost('copy-refused');
  // Everything but the default exchange, which is where the driver's copies go.
  await rabbitmqctl('set_permissions', '-p', test.vhost, test.user, '.*', '^(?!amq\\.default$).*', '.*');
});
afterAll(async () => {
  await test?.cleanup();
});

it('a refused copy requeues the original, which comes back counted; the driver warns once', async () => {
  const { warnings, logger } = warningRecorder();
  const broker = await connect(test.url, { logger });
  try {
    const consumer = await broker.consumer('refused', { group: 'g' });
    const producer = await broker.producer('refused');
    await producer.send('only one');
    const [first] = await consumer.receive({ waitMs: 5_000 });
    expect(first?.deliveryAttempt).toBe(1);
    await first!.nack();
    const [again] = await consumer.receive({ waitMs: 10_000 });
    expect(again?.text()).toBe('only one');
    expect(again?.deliveryAttempt).toBe(2);
    await again!.ack();
    expect(warnings.filter((w) => /counting per delivery only/.test(w))).toHaveLength(1);
    expect(await consumer.receive({ waitMs: 500 })).toEqual([]);
  } finally {
    await broker.close();
  }
});
