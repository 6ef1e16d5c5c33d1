// Chaos: 20,000 messages through a producer and two competing consumers (classic durable queue,
// persistent messages, publisher confirms: the driver's defaults) while the broker
// - force-closes every connection on the broker (`rabbitmqctl close_all_connections --global`)
//   five times, and
// - restarts its application once (`rabbitmqctl stop_app`, `start_app`, `await_startup`),
// each while the producer is still sending and the consumers are still receiving. Nothing may be
// lost; duplicates are allowed (at-least-once) but bounded by what can be in flight at a
// disruption; consumers and producers must resume by themselves (no test code reconnects them);
// the status events must show each outage. Time to recover, per disruption: from the moment the
// first client saw its connection drop until the consumer side has handled a message after its
// reconnect AND the producer side has had a send confirmed after its reconnect. The result is recorded in docs/reliability.md.
//
// The file name puts it in the `chaos` Vitest project, which runs after every other test, one file
// at a time, so cutting every connection and restarting the broker disturbs no other test. The
// broker is always left running: afterAll starts the application again if a failure interrupted
// the restart.

import { type Broker, connect, type StatusEvent } from '@switchyard/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DeliveryLog, sleep } from './chaos-support.js';
import { createTestVhost, rabbitmqctl, type TestVhost } from './rabbitmq-helpers.js';
import { recordChaos, seconds } from './reliability-report.js';

const TOTAL = 20_000;
const PREFETCH = 50;
const BATCH = 100;
/** Pause between batches: ~1,400 messages/s, so the run spans every disruption. */
const PACE_MS = 70;
/** The producer waits while this many of its messages are unconfirmed (an outage). */
const MAX_UNCONFIRMED = 1_000;
/**
 * Distinct messages received before each disruption. `rabbitmqctl` needs one to three seconds to
 * act, so the producer holds back its last TAIL messages until the last command has been issued:
 * it is still sending at every disruption, however slow the machine.
 */
const DISRUPTIONS = [
  { at: 2_000, kind: 'close' },
  { at: 4_000, kind: 'close' },
  { at: 6_000, kind: 'close' },
  { at: 8_500, kind: 'restart' },
  { at: 11_500, kind: 'close' },
  { at: 14_000, kind: 'close' },
] as const;
const TAIL = 1_500;

let test: TestVhost;
let appStopped = false;
const brokers: Broker[] = [];

async function ensureAppRunning(): Promise<void> {
  if (!appStopped) return;
  await rabbitmqctl('start_app');
  await rabbitmqctl('await_startup');
  appStopped = false;
}

beforeAll(async () => {
  test = await createTestVhost('chaos');
});
afterAll(async () => {
  // Whatever happened, leave the broker running for whoever comes next; close the clients (a
  // no-op after a passing run) before their vhost and user go.
  await ensureAppRunning();
  await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
  await test?.cleanup();
});

interface Disruption {
  readonly kind: 'close' | 'restart';
  readonly startedAt: number;
  /** Distinct messages received / sends confirmed when it started. */
  readonly receivedBefore: number;
  readonly confirmedBefore: number;
  /** Command(s) done: for a restart, the application is up again. */
  commandMs?: number;
  /** The first connection of either client dropped (rabbitmqctl itself takes about a second). */
  droppedAt?: number;
  /** Restart only: `start_app` returned (the broker accepts connections again). */
  appBackAt?: number;
  consumerConnectedAt?: number;
  consumerRecoveredAt?: number;
  producerConnectedAt?: number;
  producerRecoveredAt?: number;
}

it('loses nothing through five forced disconnects and a broker restart; clients resume by themselves', {
  timeout: 150_000,
}, async () => {
  const started = Date.now();
  const url = `${test.url}?unavailableTimeoutMs=20000`;
  const events: StatusEvent[] = [];
  const disruptions: Disruption[] = [];
  const producerBroker = await connect(url);
  const consumerBroker = await connect(url);
  brokers.push(producerBroker, consumerBroker);
  const onStatus = (side: 'producer' | 'consumer') => (e: StatusEvent) => {
    events.push(e);
    const now = Date.now();
    if (e.type === 'reconnecting') for (const d of disruptions) d.droppedAt ??= now;
    if (e.type !== 'connected') return;
    for (const d of disruptions) {
      if (side === 'consumer') d.consumerConnectedAt ??= now;
      else d.producerConnectedAt ??= now;
    }
  };
  producerBroker.onStatus(onStatus('producer'));
  consumerBroker.onStatus(onStatus('consumer'));

  const consumers = await Promise.all([
    consumerBroker.consumer('chaos', { group: 'workers', prefetch: PREFETCH }),
    consumerBroker.consumer('chaos', { group: 'workers', prefetch: PREFETCH }),
  ]);
  const producer = await producerBroker.producer('chaos', { maxBatchSize: BATCH, maxInFlight: 4 });

  const log = new DeliveryLog(TOTAL);
  const stop = new AbortController();
  const runs = consumers.map((c) =>
    c.run(
      async (m) => {
        // Handlers take a moment, so unacked deliveries are out when a disruption comes.
        await sleep(1);
        const now = Date.now();
        for (const d of disruptions) if (d.consumerConnectedAt !== undefined) d.consumerRecoveredAt ??= now;
        log.delivered(m.text(), now);
      },
      { signal: stop.signal, concurrency: 8 },
    ),
  );
  // Settled below; a failure before that must not surface as an unhandled rejection.
  for (const r of runs) r.catch(() => {});

  // The producer paces itself so the run spans the disruptions; every send must eventually be
  // confirmed (sends during an outage wait for the reconnect, then are retried).
  let confirmed = 0;
  let producing = true;
  let lastIssued = false;
  const sends: Array<Promise<unknown>> = [];
  const production = (async () => {
    for (let i = 0; i < TOTAL; i += BATCH) {
      while (i >= TOTAL - TAIL && !lastIssued) await sleep(10);
      const batch = Array.from({ length: Math.min(BATCH, TOTAL - i) }, (_, j) => ({ body: `m-${i + j}` }));
      sends.push(
        producer.send(batch).then(() => {
          confirmed += batch.length;
          const now = Date.now();
          for (const d of disruptions) if (d.producerConnectedAt !== undefined) d.producerRecoveredAt ??= now;
        }),
      );
      await sleep(PACE_MS);
      while (i + BATCH - confirmed > MAX_UNCONFIRMED) await sleep(10);
    }
    producing = false;
    await Promise.all(sends);
  })();
  production.catch(() => {});

  try {
    for (const { at, kind } of DISRUPTIONS) {
      await log.waitFor(at, 40_000);
      const d: Disruption = {
        kind,
        startedAt: Date.now(),
        receivedBefore: log.distinct,
        confirmedBefore: confirmed,
      };
      // Both sides must be mid-flight: the producer still sending, the consumers still receiving.
      expect(producing, `producer still sending at disruption ${disruptions.length + 1}`).toBe(true);
      expect(log.distinct).toBeLessThan(TOTAL);
      disruptions.push(d);
      if (kind === 'close') {
        await rabbitmqctl('close_all_connections', '--global', 'chaos');
      } else {
        appStopped = true;
        await rabbitmqctl('stop_app');
        await rabbitmqctl('start_app');
        d.appBackAt = Date.now();
        await rabbitmqctl('await_startup');
        appStopped = false;
      }
      d.commandMs = Date.now() - d.startedAt;
      if (disruptions.length === DISRUPTIONS.length) lastIssued = true;
      // The next disruption only once both sides have recovered from this one.
      const deadline = Date.now() + 40_000;
      while (
        (d.consumerRecoveredAt === undefined || d.producerRecoveredAt === undefined) &&
        Date.now() < deadline
      )
        await sleep(10);
    }
  } finally {
    lastIssued = true;
    await ensureAppRunning();
  }

  await production;
  await log.waitFor(TOTAL, 40_000);
  stop.abort();
  await Promise.all(runs);
  await Promise.all([consumerBroker.close({ timeoutMs: 5_000 }), producerBroker.close()]);
  const wallMs = Date.now() - started;

  const missing = log.missing(Array.from({ length: TOTAL }, (_, i) => `m-${i}`));
  // At each disruption at most: every unacked delivery of both consumers (prefetch each) plus every
  // unconfirmed publish (maxInFlight batches) can come twice.
  const bound = DISRUPTIONS.length * (2 * PREFETCH + 4 * BATCH);
  const recoveries = disruptions.map((d) =>
    d.consumerRecoveredAt === undefined || d.producerRecoveredAt === undefined
      ? Number.POSITIVE_INFINITY
      : Math.max(d.consumerRecoveredAt, d.producerRecoveredAt) - (d.droppedAt ?? d.startedAt),
  );
  const restart = disruptions.find((d) => d.kind === 'restart');
  const restartIndex = restart === undefined ? -1 : disruptions.indexOf(restart);
  const closeRecoveries = recoveries.filter((_, i) => i !== restartIndex);
  const downMs =
    restart?.appBackAt === undefined ? 0 : restart.appBackAt - (restart.droppedAt ?? restart.startedAt);
  const reconnecting = events.filter((e) => e.type === 'reconnecting' && e.attempt === 1).length;
  const connected = events.filter((e) => e.type === 'connected').length;
  const perDisruption = disruptions
    .map((d, i) => `${d.kind === 'restart' ? 'restart' : 'close'} ${seconds(recoveries[i]!)}`)
    .join(', ');
  const sides = disruptions
    .map((d) => {
      const from = d.droppedAt ?? d.startedAt;
      const ms = (t: number | undefined) => (t ?? Number.NaN) - from;
      return `dropped ${from - d.startedAt} ms after the command; consumer ${ms(d.consumerRecoveredAt)} ms / producer ${ms(d.producerRecoveredAt)} ms (reconnected ${ms(d.consumerConnectedAt)} / ${ms(d.producerConnectedAt)} ms)`;
    })
    .join('; ');
  console.info(
    `rabbitmq chaos: sent ${confirmed}, received ${log.received}, unique ${log.distinct}, duplicates ${log.duplicates} (bound ${bound}), lost ${missing.length}, wall ${wallMs} ms; disruptions at ${disruptions.map((d) => `${d.receivedBefore}/${d.confirmedBefore}`).join(' ')} (received/confirmed); recovery ${perDisruption}; restart command took ${restart?.commandMs} ms, broker down ${downMs} ms; longest gap ${log.longestGapMs} ms; reconnecting ${reconnecting}, connected ${connected}; ${sides}`,
  );
  await recordChaos({
    flavour: 'rabbitmq (classic)',
    scenario: `${TOTAL.toLocaleString('en')} msgs; 5 × close_all_connections --global, 1 × stop_app/start_app`,
    sent: confirmed,
    received: log.received,
    duplicates: log.duplicates,
    lost: missing.length,
    recoveryMs: Math.max(...recoveries),
    recoveryDetail: `restart; closes ≤ ${seconds(Math.max(...closeRecoveries))}`,
    wallMs,
    notes: `per disruption in order: ${disruptions.map((d, i) => `${seconds(recoveries[i]!)}${d.kind === 'restart' ? ' (restart)' : ''}`).join(', ')}; durable classic queue, persistent messages, publisher confirms, 2 consumers (prefetch ${PREFETCH}); broker down ${seconds(downMs)} for the restart (drop to start_app done); ${reconnecting} reconnects, all automatic; longest gap between new messages ${seconds(log.longestGapMs)}`,
  });

  expect(missing).toEqual([]);
  expect(confirmed).toBe(TOTAL);
  expect(log.duplicates).toBeLessThanOrEqual(bound);
  expect(disruptions).toHaveLength(DISRUPTIONS.length);
  // Every disruption was recovered from, by both sides, without help.
  expect(recoveries.every(Number.isFinite)).toBe(true);
  // Two connections, six outages each.
  expect(reconnecting).toBeGreaterThanOrEqual(2 * DISRUPTIONS.length);
  expect(connected).toBeGreaterThanOrEqual(2 * DISRUPTIONS.length);
  expect(events.at(-1)?.type).toBe('closed');
});
