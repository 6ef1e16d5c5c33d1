// A send's own deadline (retry.deadlineMs) bounds the RabbitMQ driver's attempt: the portable
// Producer hands the driver a signal that aborts at the deadline, and the publisher stops waiting
// for the reconnect there, instead of after its own unavailableTimeoutMs. The outage is this file's
// own vhost (the user's password changes, then its connections are cut), so no other test is
// disturbed. A watchdog lets the driver back in long after every send deadline here, but long
// before unavailableTimeoutMs: a send that waited for the driver's limit would be let through by
// the watchdog and resolve, so resolving is the failure; no elapsed time is asserted.

import { type Broker, connect, type SwitchyardError } from '@switchyard/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestVhost, rabbitmqctl, type TestVhost } from './rabbitmq-helpers.js';

const WATCHDOG_MS = 20_000;
let test: TestVhost;
let broker: Broker | undefined;

beforeAll(async () => {
  test = await createTestVhost('send-deadline');
});
afterAll(async () => {
  await rabbitmqctl('change_password', test.user, test.password).catch(() => {});
  await broker?.close({ timeoutMs: 2_000 });
  await test?.cleanup();
});

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'sent' as const,
    (e: unknown) => e as SwitchyardError,
  );

it('a send during an outage fails TIMEOUT at its own deadline, not the driver’s unavailableTimeoutMs', {
  timeout: 90_000,
}, async () => {
  broker = await connect(`${test.url}?unavailableTimeoutMs=120000`);
  // Each exchange gets a bound queue, so the broker stores what is sent.
  for (const name of ['deadline', 'deadline-delayed'])
    await (await broker.consumer(name, { group: 'g' })).close();
  const producer = await broker.producer('deadline', { retry: { deadlineMs: 1_500 } });
  const delayed = await broker.producer('deadline-delayed', { retry: { deadlineMs: 1_500 } });
  await producer.send('before the outage');

  let lifted = false;
  const letIn = async () => {
    lifted = true;
    await rabbitmqctl('change_password', test.user, test.password);
  };
  await rabbitmqctl('change_password', test.user, `Tmp-${test.password}`);
  const watchdog = setTimeout(() => void letIn(), WATCHDOG_MS);
  try {
    await rabbitmqctl('close_all_connections', '--vhost', test.vhost, 'send deadline test');
    // One waits for the reconnect in the publisher, one for the delay topology's declaration.
    const [plain, withDelay] = await Promise.all([
      outcome(producer.send('during the outage')),
      outcome(delayed.send({ body: 'delayed during the outage', delayMs: 1_000 })),
    ]);
    expect(lifted).toBe(false);
    for (const r of [plain, withDelay]) {
      expect(r).not.toBe('sent');
      expect(r).toMatchObject({ code: 'TIMEOUT', retryable: true });
    }
    expect(String(plain)).toContain('gave up');
  } finally {
    clearTimeout(watchdog);
    if (!lifted) await letIn();
  }
  // The driver heals by itself once it is let in again.
  const healBy = Date.now() + 30_000;
  let last: 'sent' | SwitchyardError = await outcome(producer.send('after the outage'));
  while (last !== 'sent' && Date.now() < healBy) last = await outcome(producer.send('after the outage'));
  expect(last).toBe('sent');
});
