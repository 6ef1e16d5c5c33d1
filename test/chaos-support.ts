// Shared by the chaos tests: counts deliveries per message body (received, distinct, duplicates,
// lost) and the longest stretch of time during which no new message was delivered; and runs a
// producer and a consumer against the emulator under the chaos tier's faults.

import type { Consumer, Producer } from '@switchyard/core';
import type { ProtocolName, RunningEmulator } from '@switchyard/emulator';
import type { ChaosRow } from './reliability-report.js';

export class DeliveryLog {
  readonly #seen = new Map<string, number>();
  #received = 0;
  #firstAt: number | undefined;
  #lastNewAt: number | undefined;
  #longestGapMs = 0;
  #longestGapEndedAt = 0;
  #waiter: { count: number; resolve: () => void } | undefined;

  constructor(readonly total: number) {}

  /** Call once per delivery (duplicates included); returns how often this body has been seen. */
  delivered(body: string, at = Date.now()): number {
    this.#received++;
    const n = (this.#seen.get(body) ?? 0) + 1;
    this.#seen.set(body, n);
    if (n === 1) {
      this.#firstAt ??= at;
      if (this.#lastNewAt !== undefined && at - this.#lastNewAt > this.#longestGapMs) {
        this.#longestGapMs = at - this.#lastNewAt;
        this.#longestGapEndedAt = at;
      }
      this.#lastNewAt = at;
      if (this.#waiter !== undefined && this.#seen.size >= this.#waiter.count) {
        this.#waiter.resolve();
        this.#waiter = undefined;
      }
    }
    return n;
  }

  get received(): number {
    return this.#received;
  }

  get distinct(): number {
    return this.#seen.size;
  }

  get duplicates(): number {
    return this.#received - this.#seen.size;
  }

  /** Longest time between two consecutive first deliveries of distinct messages. */
  get longestGapMs(): number {
    return this.#longestGapMs;
  }

  /** When that longest gap ended (epoch ms). */
  get longestGapEndedAt(): number {
    return this.#longestGapEndedAt;
  }

  missing(bodies: Iterable<string>): string[] {
    return [...bodies].filter((b) => !this.#seen.has(b));
  }

  /** Resolves once `count` distinct messages arrived, or after `timeoutMs` (then false). */
  async waitFor(count: number, timeoutMs: number): Promise<boolean> {
    if (this.#seen.size >= count) return true;
    let timer: NodeJS.Timeout | undefined;
    const reached = await Promise.race([
      new Promise<boolean>((resolve) => (this.#waiter = { count, resolve: () => resolve(true) })),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    this.#waiter = undefined;
    return reached;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The faults of the emulator-backed chaos tier, on every action of the protocols a flavour uses:
 * 10% of requests answered with the protocol's transient error, 10% of connections reset before
 * the request is served and 5% after it was served (the reply is lost: the effect happened, the
 * client cannot know, which is what makes duplicates), 10% of requests delayed by a 300 ms spike,
 * and up to 20 ms of jitter on all of them.
 */
export const TIER_FAULTS = {
  action: '*',
  errorRate: 0.1,
  resetRate: 0.1,
  lostReplyRate: 0.05,
  spikeRate: 0.1,
  spikeMs: 300,
  latencyJitterMs: 20,
} as const;

export interface FaultedRun {
  readonly total: number;
  /** Sends confirmed by the broker (failed sends are total − sent). */
  readonly sent: number;
  readonly received: number;
  readonly distinct: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly longestGapMs: number;
  readonly sendMs: number;
  readonly wallMs: number;
  /** Decisions per `protocol:action:kind` (kind: error, reset, spike, ...; `calls` counts all). */
  readonly injected: Record<string, number>;
}

interface FaultedRunOptions {
  readonly emulator: RunningEmulator;
  readonly protocols: readonly ProtocolName[];
  readonly producer: Producer;
  readonly consumer: Consumer;
  readonly total: number;
  /** Messages per producer.send() call; all calls are made at once (the producer batches). */
  readonly sendBatch: number;
  readonly concurrency: number;
  /** Give up waiting for the last messages after this long. */
  readonly timeoutMs: number;
}

/**
 * Sends `total` messages and consumes them with TIER_FAULTS on every action of `protocols` for
 * the whole run (from the first send until the last message arrived). Clients must be opened
 * first: start-up has its own tested timeout paths, the run measures messaging.
 */
export async function runUnderFaults(o: FaultedRunOptions): Promise<FaultedRun> {
  const { emulator } = o;
  const injected: Record<string, number> = {};
  const bump = (key: string) => (injected[key] = (injected[key] ?? 0) + 1);
  const decide = emulator.faults.decide.bind(emulator.faults);
  emulator.faults.decide = (protocol, action) => {
    const decision = decide(protocol, action);
    bump(`${protocol}:${action}:calls`);
    if (decision.kind !== 'none') bump(`${protocol}:${action}:${decision.kind}`);
    if (decision.latencyMs >= TIER_FAULTS.spikeMs) bump(`${protocol}:${action}:spike`);
    return decision;
  };
  emulator.faults.setRules(o.protocols.map((protocol) => ({ protocol, ...TIER_FAULTS })));

  const log = new DeliveryLog(o.total);
  const started = Date.now();
  const done = new AbortController();
  try {
    const run = o.consumer.run(
      (m) => {
        log.delivered(m.text());
        if (log.distinct === o.total) done.abort();
      },
      { signal: done.signal, concurrency: o.concurrency },
    );
    const bodies = Array.from({ length: o.total }, (_, i) => `m-${i}`);
    const sends = await Promise.allSettled(
      Array.from({ length: Math.ceil(o.total / o.sendBatch) }, (_, i) =>
        o.producer
          .send(bodies.slice(i * o.sendBatch, (i + 1) * o.sendBatch))
          .then(() => Math.min(o.sendBatch, o.total - i * o.sendBatch)),
      ),
    );
    const sent = sends.reduce((n, s) => n + (s.status === 'fulfilled' ? s.value : 0), 0);
    const sendMs = Date.now() - started;
    const timer = setTimeout(() => done.abort(), o.timeoutMs);
    await run;
    clearTimeout(timer);
    const wallMs = Date.now() - started;
    return {
      total: o.total,
      sent,
      received: log.received,
      distinct: log.distinct,
      duplicates: log.duplicates,
      lost: log.missing(bodies).length,
      longestGapMs: log.longestGapMs,
      sendMs,
      wallMs,
      injected,
    };
  } finally {
    emulator.faults.clear();
    emulator.faults.decide = decide;
  }
}

/** `n` of kind `kind` over every action, e.g. total('error'). */
export function injectedTotal(run: FaultedRun, kind: string): number {
  return Object.entries(run.injected)
    .filter(([key]) => key.endsWith(`:${kind}`))
    .reduce((n, [, v]) => n + v, 0);
}

/** The actions the run touched, e.g. ['cmq:BatchSendMessage', ...]. */
export function actionsTouched(run: FaultedRun): string[] {
  return Object.keys(run.injected)
    .filter((key) => key.endsWith(':calls'))
    .map((key) => key.slice(0, -':calls'.length))
    .sort();
}

export function faultSummary(run: FaultedRun): string {
  const calls = injectedTotal(run, 'calls');
  const actions = actionsTouched(run).map((a) => a.slice(a.indexOf(':') + 1));
  return `${calls} requests over ${actions.length} actions (${actions.join(', ')}): ${injectedTotal(run, 'error')} errors, ${injectedTotal(run, 'reset')} resets, ${injectedTotal(run, 'lostReply')} lost replies, ${injectedTotal(run, 'spike')} spikes`;
}

export function tierScenario(total: number): string {
  return `${total.toLocaleString('en')} msgs; on every action 10% errors, 10% resets, 5% lost replies, 10% 300 ms spikes`;
}

/** The row of an emulator-backed run; time to recover is the longest gap between new messages. */
export function tierRow(flavour: string, run: FaultedRun, setup: string): ChaosRow {
  return {
    flavour,
    scenario: tierScenario(run.total),
    sent: run.sent,
    received: run.received,
    duplicates: run.duplicates,
    lost: run.lost,
    recoveryMs: run.longestGapMs,
    recoveryDetail: 'longest gap',
    wallMs: run.wallMs,
    notes: `${setup}; ${faultSummary(run)}`,
  };
}
