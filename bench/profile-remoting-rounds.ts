// The RocketMQ Remoting bench section's own sequence of phases at 256 B (bench/rocketmq-remoting.ts:
// per round the expert, naive and Switchyard sides, each sending to a fresh topic and then receiving
// it, Switchyard with a fresh producer and consumer; 2 warm-up rounds, then rounds in the bench's
// balanced order), for counting what V8 compiles and throws away in each measured phase:
//   BENCH_MARKERS=1 node --trace-opt --trace-deopt --import tsx bench/profile-remoting-rounds.ts
// `@@begin <round> <side>` / `@@end …` lines (bench/measure.ts) bracket each phase on stdout, where
// V8's traces go too; a summary of msg/s and CPU per message (main thread and V8's other threads)
// per phase is printed at the end. COUNT (10,000), NAIVE (the naive side's count, default COUNT:
// it sends and pulls one at a time, so NAIVE=2000 saves minutes), ROUNDS (5).
// GC=1 (with node --expose-gc): a full GC after every side of the measured rounds, marked
// `@@gc after <round> <side>`: what V8 throws away ("marking dependent code … weak objects") when
// a mark-compact finds a round's objects dead (docs/bench-profiles.md §28, remoting).
import { concurrently, measure } from './measure.js';
import { drainRaw, remotingBenchClients, SY_CONSUMER } from './rocketmq-remoting.js';
import { roundOrder } from './round-order.js';
import { threadCpu } from './thread-cpu.js';

const count = Number(process.env.COUNT ?? 10_000);
const naiveCount = Number(process.env.NAIVE ?? count);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const { emulator, broker, raw, topic } = await remotingBenchClients();
const body = Buffer.alloc(256, 'x');
let round = 'w0';
const mark = (s: string) => process.stdout.write(`${s}\n`);
const log: string[] = [];
// Thread CPU at the start of the phase being measured (one at a time).
let t0 = threadCpu()!;
const measuredPhase = (n: number, w: () => Promise<unknown>, l: string) => {
  t0 = threadCpu()!;
  return measure(n, w, l);
};
/** Records a measured phase for the summary. */
const rec = (label: string, p: { count: number; ms: number; cpuUs: number }) => {
  const t1 = threadCpu()!;
  log.push(
    `${round} ${label} ${((p.count / p.ms) * 1000).toFixed(0)} msg/s ${(p.cpuUs / p.count).toFixed(2)} us/msg main ${((t1.main - t0.main) / 1000 / p.count).toFixed(2)} others ${((t1.others - t0.others) / 1000 / p.count).toFixed(2)}`,
  );
};
const sides: Record<string, () => Promise<void>> = {
  expert: async () => {
    const t = await topic();
    rec(
      'expert-send',
      await measuredPhase(
        count,
        () => concurrently(count, 64, () => raw.send(t, body)),
        `${round} expert-send`,
      ),
    );
    rec('expert-recv', await measuredPhase(count, () => drainRaw(raw, t, count, 32), `${round} expert-recv`));
  },
  naive: async () => {
    const t = await topic();
    rec(
      'naive-send',
      await measuredPhase(
        naiveCount,
        () => concurrently(naiveCount, 1, () => raw.send(t, body)),
        `${round} naive-send`,
      ),
    );
    rec(
      'naive-recv',
      await measuredPhase(naiveCount, () => drainRaw(raw, t, naiveCount, 1, true), `${round} naive-recv`),
    );
  },
  sy: async () => {
    const t = await topic();
    const producer = await broker.producer(t);
    rec(
      'sy-send',
      await measuredPhase(
        count,
        () => concurrently(count, 1000, () => producer.send({ body })),
        `${round} sy-send`,
      ),
    );
    await producer.close();
    const consumer = await broker.consumer(t, { group: `${t}-g`, ...SY_CONSUMER });
    let handled = 0;
    const done = new AbortController();
    rec(
      'sy-recv',
      await measuredPhase(
        count,
        async () => {
          await consumer.run(
            () => {
              if (++handled === count) done.abort();
            },
            { signal: done.signal },
          );
          await consumer.close();
        },
        `${round} sy-recv`,
      ),
    );
  },
};
try {
  const keys = Object.keys(sides);
  for (let w = 0; w < 2; w++) {
    round = `w${w}`;
    for (const k of keys) await sides[k]!();
  }
  for (let r = 0; r < ROUNDS; r++) {
    round = `r${r}`;
    for (const k of roundOrder(keys, r)) {
      await sides[k]!();
      // GC=1: a full collection after every side, as a mark-compact falls somewhere between
      // phases in a long section: what dies with a round's consumer and producer shows.
      if (process.env.GC) {
        mark(`@@gc after ${round} ${k}`);
        (globalThis as unknown as { gc(): void }).gc();
      }
    }
  }
} finally {
  raw.close();
  await broker.close();
  await emulator.stop();
  mark('@@summary');
  for (const l of log) mark(l);
}
