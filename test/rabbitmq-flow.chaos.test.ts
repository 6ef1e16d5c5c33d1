// RabbitMQ flow control: under a real memory alarm (the broker blocks every publishing connection)
// sends fail with a retryable UNAVAILABLE or TIMEOUT while the alarm still holds, the driver reports
// `blocked` and then `connected` again, and broker.close() returns while the alarm holds, rejecting
// what it left unconfirmed. The alarm is lifted after every assertion that must hold during it,
// or by a watchdog WATCHDOG_MS after it was raised (far beyond every deadline here): a send or
// close that waited for the broker instead of its deadline would see the watchdog's lift first,
// and fail the `lifted` checks. The alarm disturbs every user of the broker: a *.chaos.test.ts file.

import { type Broker, connect, type StatusEvent, type SwitchyardError } from '@switchyard/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestVhost, rabbitmqctl, type TestVhost, warningRecorder } from './rabbitmq-helpers.js';

const WATCHDOG_MS = 45_000;
let test: TestVhost;
const brokers: Broker[] = [];

async function lift(): Promise<void> {
  await rabbitmqctl('set_vm_memory_high_watermark', '0.4');
}

beforeAll(async () => {
  test = await createTestVhost('flow');
});
afterAll(async () => {
  // ALWAYS lift the alarm, whatever failed: it blocks every publisher on the shared broker.
  await lift();
  await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 2_000 })));
  await test?.cleanup();
});

async function open(
  unavailableTimeoutMs: number,
): Promise<{ broker: Broker; events: StatusEvent[]; warnings: string[] }> {
  const { warnings, logger } = warningRecorder();
  const broker = await connect(`${test.url}?unavailableTimeoutMs=${unavailableTimeoutMs}`, { logger });
  brokers.push(broker);
  const events: StatusEvent[] = [];
  broker.onStatus((e) => events.push(e));
  return { broker, events, warnings };
}

async function until(predicate: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'sent' as const,
    (e: unknown) => e as SwitchyardError,
  );

it('a memory alarm: sends fail retryable within their deadline, status says blocked, close returns', {
  timeout: 120_000,
}, async () => {
  const a = await open(1_500);
  // B's own send deadline is beyond the watchdog: only close() can end its wait in time.
  const b = await open(60_000);
  const consumer = await a.broker.consumer('flow', { group: 'g' });
  const producerA = await a.broker.producer('flow', { retry: { deadlineMs: 4_000 } });
  const producerB = await b.broker.producer('flow', { retry: { deadlineMs: 60_000 } });
  // A send deadline far shorter than B's unavailableTimeoutMs: the send's own deadline ends it.
  const producerC = await b.broker.producer('flow', { retry: { deadlineMs: 2_000 } });
  // B's consumer must close too while its connection is blocked (cancel and channel close are
  // never answered then).
  await b.broker.consumer('flow', { group: 'g2' });
  await producerA.send('before the alarm');

  let lifted = false;
  let watchdog: NodeJS.Timeout | undefined;
  try {
    await rabbitmqctl('set_vm_memory_high_watermark', '0.0000001');
    watchdog = setTimeout(() => {
      lifted = true;
      void lift();
    }, WATCHDOG_MS);
    // The broker blocks a connection when it next publishes; these sends are what it blocks.
    const during = Array.from({ length: 5 }, (_, i) => outcome(producerA.send(`during ${i}`)));
    await until(() => a.events.some((e) => e.type === 'blocked'), "connection A's blocked event");
    const results = await Promise.all(during);
    expect(lifted).toBe(false);
    for (const r of results) {
      expect(r).not.toBe('sent');
      expect(r).toMatchObject({ retryable: true });
      expect(['UNAVAILABLE', 'TIMEOUT']).toContain((r as SwitchyardError).code);
    }
    const blocked = a.events.find((e) => e.type === 'blocked');
    expect(blocked).toMatchObject({ type: 'blocked', driver: 'rabbitmq' });
    expect((blocked as { reason: string }).reason).toMatch(/memory/i);

    // A send in flight (with a retry deadline far beyond the close) and a consumer when close is
    // called: close returns while the alarm holds, and the send is rejected, not resolved.
    const inFlight = outcome(producerB.send('in flight at close'));
    await until(() => b.events.some((e) => e.type === 'blocked'), "connection B's blocked event");
    const capped = await outcome(producerC.send('capped by its own deadline'));
    expect(capped).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(lifted).toBe(false);
    await b.broker.close({ timeoutMs: 1_000 });
    const late = await inFlight;
    expect(late).not.toBe('sent');
    expect(late).toMatchObject({ retryable: true });
    expect(b.warnings.some((w) => /not confirmed were rejected/.test(w))).toBe(true);
    expect(a.warnings.some((w) => /blocked publishing/.test(w))).toBe(true);
    expect(lifted).toBe(false);

    clearTimeout(watchdog);
    await lift();
    lifted = true;
    // Unblocked: status says connected again, and sends go through.
    const blockedAt = a.events.findIndex((e) => e.type === 'blocked');
    await until(
      () => a.events.slice(blockedAt).some((e) => e.type === 'connected'),
      "connection A's unblocked (connected) event",
    );
    await producerA.send('after the alarm');
    const seen = new Set<string>();
    while (!seen.has('after the alarm')) {
      const got = await consumer.receive({ max: 10, waitMs: 5_000 });
      if (got.length === 0) break;
      for (const m of got) {
        seen.add(m.text());
        await m.ack();
      }
    }
    expect(seen).toContain('before the alarm');
    expect(seen).toContain('after the alarm');
  } finally {
    clearTimeout(watchdog);
    if (!lifted) await lift();
  }
});
