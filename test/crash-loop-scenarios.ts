// The two adversarial attempt-counting scenarios every flavour runs, driven from the test process
// against one broker: a poison message that crashes its consumer process (through crashLoop), and
// healthy messages that share one sender id and each fail once. Both return the counts that
// docs/reliability.md's crash table reports.

import type { Broker, Consumer, Message } from '@switchyard/core';
import { expect } from 'vitest';
import {
  type CrashLoopResult,
  crashLoop,
  POISON,
  unhandled,
  wronglyDeadLettered,
} from './crash-loop-support.js';
import { type AttemptStoreKind, openAttemptStore } from './fixtures/attempt-store-env.js';
import { recordCrash } from './reliability-report.js';

export const MAX = 3;
export const GOOD = ['good-1', 'good-2', 'good-3'];
export const HEALTHY_SCENARIO = '20 healthy messages sharing one id, each failing once (maxDeliveries 2)';
/** Crashes a count kept in the process allows: more than maxDeliveries, to show none is counted. */
export const UNBOUNDED_RUNS = MAX + 2;
export const CRASH_SCENARIO = 'poison message SIGKILLs its consumer process; restarted after each crash';

export interface CrashLoopRun {
  readonly result: CrashLoopResult;
  /** The poison message was still on the source after the loop (only looked for when not dead-lettered). */
  readonly poisonKept: boolean;
  /** Healthy messages no child handled, taken from the source after the loop. */
  readonly rescuedGood: number;
  /** Sent messages neither handled, dead-lettered nor still on the source. */
  readonly lost: number;
  readonly wrong: number;
}

/**
 * Sends the poison message and the healthy ones, runs the crash loop, and (when the poison message
 * was never dead-lettered) takes it from the source in the test process to show it was not lost.
 * `broker` is the test process's own connection, configured like the children's.
 */
export async function runCrashLoop(o: {
  broker: Broker;
  url: string;
  source: string;
  group: string;
  deadLetter: string;
  runs: number;
  runMs?: number;
  /** The durable store the children count deliveries in (consumer option attemptStore). */
  attemptStore?: AttemptStoreKind;
}): Promise<CrashLoopRun> {
  // The table exists before the first child (children racing CREATE TABLE could collide).
  if (o.attemptStore === 'postgres') await (await openAttemptStore('postgres')).close();
  const consumerOptions = { group: o.group, deadLetter: o.deadLetter, maxDeliveries: MAX };
  const dead = await o.broker.consumer(o.deadLetter, { group: 'reader' });
  // The group's queue or subscription exists (with the children's settings) before the sends.
  await (await o.broker.consumer(o.source, consumerOptions)).close();
  const producer = await o.broker.producer(o.source);
  await producer.send([{ body: POISON, headers: { kind: 'bad' } }, ...GOOD.map((body) => ({ body }))]);
  await producer.close();
  const result = await crashLoop({
    url: o.url,
    source: o.source,
    group: o.group,
    deadLetter: o.deadLetter,
    maxDeliveries: MAX,
    runs: o.runs,
    good: GOOD,
    dead,
    ...(o.runMs === undefined ? {} : { runMs: o.runMs }),
    attemptStore: o.attemptStore,
  });
  await dead.close();
  const deadPoison = result.deadLettered.filter((m) => m.text() === POISON).length;
  // What the children never settled is still on the source (or lost): take it in this process,
  // without maxDeliveries, so nothing here can dead-letter it.
  const missing = new Set(unhandled(result, GOOD));
  if (deadPoison === 0) missing.add(POISON);
  const rescued = new Set<string>();
  if (missing.size > 0) {
    const rescue = await o.broker.consumer(o.source, { group: o.group });
    const taken = await takeUntil(rescue, (m) => missing.has(m.text()), missing.size, 60_000);
    await rescue.close();
    for (const body of taken) rescued.add(body);
  }
  const lost = [...missing].filter((body) => !rescued.has(body)).length;
  return {
    result,
    poisonKept: rescued.has(POISON),
    rescuedGood: GOOD.filter((body) => rescued.has(body)).length,
    lost,
    wrong: wronglyDeadLettered(result).length,
  };
}

/** Receives (acking everything) until `n` distinct matching bodies arrived or `ms` passed. */
async function takeUntil(
  c: Consumer,
  match: (m: Message) => boolean,
  n: number,
  ms: number,
): Promise<Set<string>> {
  const taken = new Set<string>();
  const deadline = Date.now() + ms;
  while (taken.size < n && Date.now() < deadline) {
    for (const m of await c.receive({ max: 10, waitMs: 500 })) {
      await m.ack();
      if (match(m)) taken.add(m.text());
    }
  }
  return taken;
}

export interface HealthyRun {
  readonly n: number;
  /** deliveryAttempt seen per body. */
  readonly attempts: Map<string, number[]>;
  readonly deadLettered: string[];
  readonly lost: number;
}

/**
 * 20 messages sharing one sender id (and key), each failing on its first delivery: a count shared
 * by id would dead-letter every one after the first at maxDeliveries 2.
 */
export async function runHealthySharedId(o: {
  broker: Broker;
  source: string;
  group: string;
  deadLetter: string;
  deadlineMs?: number;
}): Promise<HealthyRun> {
  const n = 20;
  const dead = await o.broker.consumer(o.deadLetter, { group: 'reader' });
  const consumer = await o.broker.consumer(o.source, {
    group: o.group,
    deadLetter: o.deadLetter,
    maxDeliveries: 2,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
  });
  const producer = await o.broker.producer(o.source);
  const bodies = Array.from({ length: n }, (_, i) => `healthy-${i}`);
  for (const body of bodies) await producer.send({ id: 'repeated-id', key: 'repeated-id', body });
  await producer.close();
  const attempts = new Map<string, number[]>();
  const done = new Set<string>();
  const deadLettered: string[] = [];
  const stop = new AbortController();
  const run = consumer.run(
    (m: Message) => {
      const seen = attempts.get(m.text()) ?? [];
      seen.push(m.deliveryAttempt);
      attempts.set(m.text(), seen);
      if (seen.length === 1) throw new Error('first delivery fails');
      done.add(m.text());
      if (done.size === n) stop.abort();
    },
    { signal: stop.signal },
  );
  // Each message is handled or dead-lettered: wait for the sum, so a wrongly dead-lettered one
  // ends the wait as soon as it shows up instead of at the deadline.
  const deadline = Date.now() + (o.deadlineMs ?? 60_000);
  while (done.size + deadLettered.length < n && Date.now() < deadline) {
    for (const m of await dead.receive({ max: n, waitMs: 200 })) {
      deadLettered.push(m.text());
      await m.ack();
    }
  }
  stop.abort();
  await run;
  await consumer.close();
  for (const m of await dead.receive({ max: n, waitMs: 500 })) {
    deadLettered.push(m.text());
    await m.ack();
  }
  await dead.close();
  const lost = bodies.filter((b) => !done.has(b) && !deadLettered.includes(b)).length;
  return { n, attempts, deadLettered, lost };
}

/** Checks and records a loop that must dead-letter after exactly MAX crashes. */
export async function expectBounded(
  flavour: string,
  run: CrashLoopRun,
  notes: string,
  mover: 'the broker' | 'the portable layer',
): Promise<void> {
  const { result } = run;
  const copies = result.deadLettered.filter((m) => m.text() === POISON);
  // The portable layer's copy says why it was moved; a broker's own dead-lettering does not.
  const reason = copies[0]?.headers['x-switchyard-dead-letter-reason'];
  const movedBy =
    copies.length === 0 ? undefined : reason === undefined ? 'the broker' : 'the portable layer';
  const exact = result.crashes.join(',') === '1,2,3' && copies.length === 1 && movedBy === mover;
  await recordCrash({
    flavour,
    scenario: CRASH_SCENARIO,
    maxDeliveries: MAX,
    crashes: copies.length > 0 ? result.crashes.length : null,
    restarts: result.runs,
    deadLettered: copies.length,
    wronglyDeadLettered: run.wrong,
    lost: run.lost,
    expected: exact,
    notes: [
      notes,
      `deliveryAttempt at each crash: ${result.crashes.join(',') || 'none'}`,
      ...(movedBy === undefined
        ? []
        : [`moved by ${movedBy}${reason === undefined ? '' : ` ("${reason}")`}`]),
    ].join('; '),
  });
  if (!exact) console.log(result.output.join('\n'));
  expect(result.crashes).toEqual([1, 2, 3]);
  expect(movedBy).toBe(mover);
  expect(copies.map((m) => m.text())).toEqual([POISON]);
  expect(run.wrong).toBe(0);
  expect(run.lost).toBe(0);
  expect([...result.handled.keys()].sort()).toEqual(GOOD);
}

/** Checks and records a loop the flavour cannot bound: every restart sees attempt 1 again. */
export async function expectUnbounded(flavour: string, run: CrashLoopRun, notes: string): Promise<void> {
  const { result } = run;
  const copies = result.deadLettered.filter((m) => m.text() === POISON);
  const asDocumented = copies.length === 0 && result.crashes.every((a) => a === 1);
  await recordCrash({
    flavour,
    scenario: CRASH_SCENARIO,
    maxDeliveries: MAX,
    crashes: copies.length > 0 ? result.crashes.length : null,
    restarts: result.runs,
    deadLettered: copies.length,
    wronglyDeadLettered: run.wrong,
    lost: run.lost,
    expected: asDocumented,
    notes: [
      notes,
      `deliveryAttempt at each crash: ${result.crashes.join(',')}`,
      `the poison message ${run.poisonKept ? 'was still on its subscription afterwards' : '**was not found afterwards**'}`,
      ...(run.rescuedGood > 0
        ? [
            `${run.rescuedGood} of ${GOOD.length} healthy messages, fetched with it, came back with it after every crash and were handled only after the loop`,
          ]
        : []),
    ].join('; '),
  });
  if (!asDocumented) console.log(result.output.join('\n'));
  expect(result.crashes).toEqual(Array.from({ length: UNBOUNDED_RUNS }, () => 1));
  expect(copies).toHaveLength(0);
  expect(run.poisonKept).toBe(true);
  expect(run.wrong).toBe(0);
  expect(run.lost).toBe(0);
}

export async function expectHealthy(flavour: string, run: HealthyRun, notes: string): Promise<void> {
  const twice = [...run.attempts.values()].every((a) => a.join(',') === '1,2');
  await recordCrash({
    flavour,
    scenario: HEALTHY_SCENARIO,
    maxDeliveries: 2,
    crashes: undefined,
    deadLettered: undefined,
    wronglyDeadLettered: run.deadLettered.length,
    lost: run.lost,
    expected: true,
    notes: twice
      ? `${notes}; every message handled on attempt 2`
      : `${notes}; **attempts other than 1,2 seen**`,
  });
  expect(run.deadLettered).toEqual([]);
  expect(run.lost).toBe(0);
  expect(run.attempts.size).toBe(run.n);
  expect([...run.attempts.values()].every((a) => a[0] === 1 && a.at(-1) === 2)).toBe(true);
}
