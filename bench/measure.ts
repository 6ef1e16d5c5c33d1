// Throughput and client CPU per message for one timed phase, and the paired rows every flavour
// section prints: the expert raw client, the one-at-a-time raw client where kept, and Switchyard,
// each measured in the same rounds so a neighbour's load hits both sides alike.

import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import type { Consumer } from '@switchyard/core';
import type { DriverConsumerOptions } from '@switchyard/core/driver';
import { roundOrder } from './round-order.js';
import type { BenchRow } from './types.js';
import { median } from './types.js';

export interface Phase {
  readonly count: number;
  readonly ms: number;
  /** Process CPU (user + system) spent during the phase, µs: the client's, when no server shares the process. */
  readonly cpuUs: number;
  /**
   * Minor page faults during the phase. On a host where touching a newly mapped page is dear
   * (≈ 11 µs on the 2026-12-06 host, docs/bench-profiles.md §20.0) they are much of the CPU
   * difference between sides that promote or copy differently, so rows print them beside CPU.
   */
  readonly faults?: number;
  /**
   * Garbage collections whose pause started in the phase: scavenges, mark-compacts (major or
   * incremental marking steps) and their pause time, ms. Sections inheriting a grown heap made
   * one side's phases collect more than the other's (docs/bench-profiles.md §27).
   */
  readonly gc?: { readonly minor: number; readonly major: number; readonly ms: number };
  /**
   * Wall time from the phase's start to the last message in hand, ms, when the side records it. A
   * consumer that cannot cancel a long poll waits one out after the last message (RocketMQ): this
   * splits the rate of the work from that wait.
   */
  readonly lastMs?: number;
  /**
   * Wall time (ms) and process CPU (µs) from the phase's start to its first message in hand, when
   * the side marks it (markFirst): a consumer's open (Switchyard's topology checks, the expert's
   * bare channel) is a cost per consumer, which a phase of a few thousand messages weighs as much as
   * the messages' own work; the rest of the phase is the per-message rate.
   */
  readonly firstMs?: number;
  readonly firstCpuUs?: number;
}

/** The phase being measured: where markFirst() records its first message. */
let open: { started: number; cpu: NodeJS.CpuUsage; firstMs?: number; firstCpuUs?: number } | undefined;

/** The side has its first message of the phase in hand (later calls in the phase are ignored). */
export function markFirst(): void {
  if (open === undefined || open.firstMs !== undefined) return;
  const used = process.cpuUsage(open.cpu);
  open.firstMs = performance.now() - open.started;
  open.firstCpuUs = used.user + used.system;
}

/** Every GC pause's entry since the last phase ended (delivered after the pause, off the measured path). */
const gcEntries: PerformanceEntry[] = [];
const gcObserver = new PerformanceObserver((list) => {
  gcEntries.push(...list.getEntries());
});
gcObserver.observe({ entryTypes: ['gc'] });

/** The phase's GC pauses, by start time; entries arrive after their pause, so wait a turn first. */
async function gcOf(started: number, ended: number): Promise<NonNullable<Phase['gc']>> {
  await new Promise((resolve) => setImmediate(resolve));
  gcEntries.push(...gcObserver.takeRecords());
  let minor = 0;
  let major = 0;
  let ms = 0;
  for (const entry of gcEntries) {
    if (entry.startTime < started || entry.startTime > ended) continue;
    // detail.kind: 1 scavenge, 2 minor mark-compact, 4 mark-compact, 8 incremental marking, 16 weak callbacks.
    const kind = (entry as { detail?: { kind?: number } }).detail?.kind ?? 0;
    if (kind === 1 || kind === 2) minor++;
    else if (kind === 4 || kind === 8) major++;
    ms += entry.duration;
  }
  gcEntries.length = 0;
  return { minor, major, ms };
}

/** Times `work`, which handles `count` messages, with wall clock and process CPU. */
const MARKERS = process.env.BENCH_MARKERS === '1';

export async function measure(count: number, work: () => Promise<unknown>, label?: string): Promise<Phase> {
  // BENCH_MARKERS=1: `@@begin`/`@@end` lines on stdout, where `node --trace-opt --trace-deopt` also
  // writes, so compiles and deopts can be attributed to the measured phase they fell in.
  if (MARKERS && label !== undefined) process.stdout.write(`@@begin ${label}\n`);
  const faults = process.resourceUsage().minorPageFault;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const phase: NonNullable<typeof open> = { started, cpu };
  open = phase;
  try {
    await work();
  } finally {
    open = undefined;
  }
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const faulted = process.resourceUsage().minorPageFault - faults;
  if (MARKERS && label !== undefined) process.stdout.write(`@@end ${label}\n`);
  return {
    count,
    ms,
    cpuUs: used.user + used.system,
    faults: faulted,
    gc: await gcOf(started, started + ms),
    ...(phase.firstMs === undefined ? {} : { firstMs: phase.firstMs, firstCpuUs: phase.firstCpuUs }),
  };
}

export const rateOf = (p: Phase) => (p.count / p.ms) * 1000;
export const cpuOf = (p: Phase) => p.cpuUs / p.count;
/** Minor page faults per message, or undefined for a phase measured without them. */
const faultsOf = (p: Phase) => (p.faults === undefined ? undefined : p.faults / p.count);
const r2 = (n: number) => Math.round(n * 100) / 100;
const r1 = (n: number) => Math.round(n * 10) / 10;

/** Phases per contender, one entry per round. */
export class Rounds {
  readonly #by = new Map<string, Phase[]>();

  add(key: string, phase: Phase): void {
    const list = this.#by.get(key) ?? [];
    list.push(phase);
    this.#by.set(key, list);
  }

  get(key: string): readonly Phase[] {
    return this.#by.get(key) ?? [];
  }

  /** Forgets every phase (after a warm-up). */
  clear(): void {
    this.#by.clear();
  }

  has(key: string): boolean {
    return this.get(key).length > 0;
  }
}

export interface Comparison {
  /** Row prefix, e.g. "rabbitmq publish 256 B". */
  readonly label: string;
  readonly rounds: Rounds;
  readonly switchyard: { readonly key: string; readonly how: string };
  readonly expert: { readonly key: string; readonly how: string };
  readonly naive?: { readonly key: string; readonly how: string };
  readonly note?: string;
  /** Which cost remains and why, printed when a ratio misses its target. */
  readonly profile?: string;
}

/** Median per round of a paired ratio, with the spread across rounds. */
function pairedRatio(a: readonly Phase[], b: readonly Phase[], f: (x: Phase, y: Phase) => number) {
  const each = a.slice(0, b.length).map((x, i) => f(x, b[i]!));
  return { mid: median(each), lo: Math.min(...each), hi: Math.max(...each) };
}

/**
 * Rows: each side's median throughput with its client CPU per message, then Switchyard / expert
 * (throughput; CPU in the note) and Switchyard / one-at-a-time when a naive side ran.
 */
export function compare(c: Comparison): BenchRow[] {
  const side = (key: string, who: string, how: string): BenchRow => {
    const phases = c.rounds.get(key);
    return {
      name: `${c.label}: ${who}`,
      value: Math.round(median(phases.map(rateOf))),
      unit: 'msg/s',
      cpuUsPerMsg: r1(median(phases.map(cpuOf))),
      note: `${how}${c.note ? `; ${c.note}` : ''}`,
    };
  };
  const sy = c.rounds.get(c.switchyard.key);
  const rows: BenchRow[] = [
    side(c.expert.key, 'expert raw', c.expert.how),
    ...(c.naive && c.rounds.has(c.naive.key) ? [side(c.naive.key, 'one-at-a-time raw', c.naive.how)] : []),
    side(c.switchyard.key, 'Switchyard', c.switchyard.how),
  ];
  const ex = c.rounds.get(c.expert.key);
  const thr = pairedRatio(sy, ex, (s, e) => rateOf(s) / rateOf(e));
  const cpu = pairedRatio(sy, ex, (s, e) => cpuOf(s) / cpuOf(e));
  const misses = thr.mid < 1 || cpu.mid > 1.15;
  const faults = faultNote(sy, ex) + gcNote(sy, ex) + lastNote(sy, ex) + firstNote(sy, ex);
  rows.push({
    name: `${c.label}: Switchyard / expert`,
    value: r2(thr.mid),
    unit: '×',
    note:
      `rounds ${r2(thr.lo)}–${r2(thr.hi)}; client CPU/msg ${r2(cpu.mid)}× (${r2(cpu.lo)}–${r2(cpu.hi)}); ` +
      `targets ≥ 1.0× and CPU ≤ 1.15×${faults}${misses && c.profile ? `. Profile: ${c.profile}` : ''}`,
  });
  if (c.naive && c.rounds.has(c.naive.key)) {
    const naive = pairedRatio(sy, c.rounds.get(c.naive.key), (s, n) => rateOf(s) / rateOf(n));
    rows.push({
      name: `${c.label}: Switchyard / one-at-a-time`,
      value: r2(naive.mid),
      unit: '×',
      note: `rounds ${r2(naive.lo)}–${r2(naive.hi)}`,
    });
  }
  return rows;
}

/** "; minor page faults/msg S vs E": medians per side, when both sides' phases counted them. */
function faultNote(sy: readonly Phase[], ex: readonly Phase[]): string {
  const s = sy.map(faultsOf);
  const e = ex.map(faultsOf);
  if (s.length === 0 || e.length === 0 || s.includes(undefined) || e.includes(undefined)) return '';
  const fmt = (n: number) => (n >= 10 ? Math.round(n).toString() : r2(n).toString());
  return `; minor page faults/msg ${fmt(median(s as number[]))} vs ${fmt(median(e as number[]))}`;
}

/** "; GC/phase S vs E": each side's median scavenges + mark-compacts and pause ms per phase. */
function gcNote(sy: readonly Phase[], ex: readonly Phase[]): string {
  if (sy.length === 0 || ex.length === 0 || [...sy, ...ex].some((p) => p.gc === undefined)) return '';
  const side = (phases: readonly Phase[]) => {
    const of = (f: (g: NonNullable<Phase['gc']>) => number) => median(phases.map((p) => f(p.gc!)));
    return `${of((g) => g.minor)}+${of((g) => g.major)} (${r1(of((g) => g.ms))} ms)`;
  };
  return `; GC/phase scavenges+mark-compacts ${side(sy)} vs ${side(ex)}`;
}

/**
 * "; to the last message in hand R× (rounds lo–hi)": the paired throughput ratio up to each
 * side's last message, when both sides recorded it.
 */
function lastNote(sy: readonly Phase[], ex: readonly Phase[]): string {
  if (sy.length === 0 || ex.length === 0) return '';
  if (sy.some((p) => p.lastMs === undefined) || ex.some((p) => p.lastMs === undefined)) return '';
  const r = pairedRatio(sy, ex, (s, e) => e.lastMs! / s.lastMs!);
  return `; up to the last message in hand ${r2(r.mid)}× (rounds ${r2(r.lo)}–${r2(r.hi)})`;
}

/**
 * "; from the first message in hand R× at CPU C×": the paired ratios over each phase after its
 * side's first message (the consumer's open left out on both sides), when both sides marked it.
 */
function firstNote(sy: readonly Phase[], ex: readonly Phase[]): string {
  const marked = (p: Phase) => p.firstMs !== undefined && p.firstCpuUs !== undefined && p.count > 1;
  if (sy.length === 0 || ex.length === 0 || !sy.every(marked) || !ex.every(marked)) return '';
  const rate = (p: Phase) => (p.count - 1) / (p.ms - p.firstMs!);
  const cpu = (p: Phase) => (p.cpuUs - p.firstCpuUs!) / (p.count - 1);
  const r = pairedRatio(sy, ex, (s, e) => rate(s) / rate(e));
  const c = pairedRatio(sy, ex, (s, e) => cpu(s) / cpu(e));
  return `; from the first message in hand ${r2(r.mid)}× (rounds ${r2(r.lo)}–${r2(r.hi)}) at CPU ${r2(c.mid)}× (${r2(c.lo)}–${r2(c.hi)})`;
}

/**
 * ALLOC=bytes in the profile scripts: the JS heap bytes `work` allocates per message, as the
 * heap's growth from a collected heap (needs `node --expose-gc` and a young generation that holds
 * the whole work, e.g. --min-semi-space-size=128 --max-semi-space-size=128). A run during which a
 * GC ran prints no figure. Bodies outside the JS heap (Buffers) are not counted.
 */
export async function heapBytesPerMessage(count: number, work: () => Promise<unknown>): Promise<string> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('ALLOC=bytes needs node --expose-gc');
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  gc();
  gc();
  observer.observe({ entryTypes: ['gc'] });
  const before = process.memoryUsage().heapUsed;
  await work();
  const grown = process.memoryUsage().heapUsed - before;
  // GC entries are delivered asynchronously: let them in before reading the count.
  await new Promise((r) => setImmediate(r));
  observer.disconnect();
  return gcs > 0 ? `${gcs} GCs during the run, no figure` : `${(grown / count).toFixed(0)} B/msg allocated`;
}

/** Human size for row labels. */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1 << 20) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} B`;
}

/** A text body of `bytes` ASCII characters (CMQ and the Cloud API carry text). */
export function textBody(bytes: number): string {
  const unit = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

/** `width` workers each awaiting one call at a time: `width` concurrent calls until `count` ran. */
export async function concurrently(
  count: number,
  width: number,
  call: () => Promise<unknown>,
): Promise<void> {
  const state = { next: 0, count };
  const workers: Array<Promise<void>> = [];
  for (let i = Math.min(width, count); i > 0; i--) workers.push(worker(state, call));
  await Promise.all(workers);
}

/**
 * One of concurrently()'s workers. A module-level function, not an async arrow made per call of
 * concurrently(): V8 keeps an arrow's optimized code only while an arrow of it lives, and the
 * worker has the side's whole send path inlined, so each phase compiled it again (one of the
 * RabbitMQ publish phases' per-phase compiles, on the side that calls send() concurrently).
 */
async function worker(state: { next: number; readonly count: number }, call: () => Promise<unknown>) {
  while (state.next++ < state.count) await call();
}

/** Unmeasured rounds per side before the measured ones (see alternate()). */
const WARM_ROUNDS = 2;

/**
 * Runs each side WARM_ROUNDS times to warm up (JIT, connections; those phases are then forgotten),
 * then `rounds` rounds in a balanced order (round-order.ts), so no side always inherits the same
 * neighbour's leftover work. Twice, not once: TurboFan compiles on background threads for the first few thousand
 * calls of a path, and process CPU counts that work, more of it for the side with more code
 * (docs/bench-profiles.md §17: the RabbitMQ driver alone fell from 20.9 to 6.4–7.8 µs per message
 * once warm; Pulsar over HTTP's one-at-a-time calls took ≈ 2,500 calls to settle).
 */
export async function alternate(
  rounds: number,
  sides: Record<string, () => Promise<void>>,
  measured: readonly Rounds[],
  warm: readonly string[] = Object.keys(sides),
): Promise<void> {
  for (let w = 0; w < WARM_ROUNDS; w++) for (const key of warm) await sides[key]!();
  for (const r of measured) r.clear();
  const keys = Object.keys(sides);
  for (let round = 0; round < rounds; round++) for (const key of roundOrder(keys, round)) await sides[key]!();
}

/**
 * Switchyard draining `count` with run(). close() is inside the phase: run() returns once the
 * handlers finish, and the acks still in flight are part of the work (raw sides wait for theirs).
 * The phase also records when the last handler ran (lastMs).
 */
export async function drainWithRun(consumer: Consumer, count: number): Promise<Phase> {
  let handled = 0;
  let last = 0;
  const done = new AbortController();
  const started = performance.now();
  const phase = await measure(count, async () => {
    await consumer.run(
      () => {
        if (++handled !== count) return;
        last = performance.now();
        done.abort();
      },
      { signal: done.signal },
    );
    await consumer.close();
  });
  return { ...phase, lastMs: last - started };
}

/** Prints rows when a section runs alone. */
export function printRows(rows: readonly BenchRow[]): void {
  for (const r of rows)
    console.log(
      `${r.name}: ${r.value} ${r.unit}${r.cpuUsPerMsg !== undefined ? ` [${r.cpuUsPerMsg} µs CPU/msg]` : ''}${r.note ? `  (${r.note})` : ''}`,
    );
}

/** A driver consumer of group `bench` opened the way the driver-alone rows open it: no filter, no lease, no dead letter. */
export function benchConsumerOptions(prefetch: number): DriverConsumerOptions {
  return {
    group: 'bench',
    filter: {},
    prefetch,
    visibilityTimeoutMs: undefined,
    startFrom: undefined,
    deadLetter: undefined,
    driverOptions: {},
  };
}
