// Tracing overhead on the in-memory driver's per-message path (send batches + run() handler, 256 B
// bodies), measured in one run as messages per CPU-second of this process (robust on a shared
// machine; pass { metric: 'wall' } for wall-clock msg/s), ten paired rounds in ABBA order with a GC
// before each, reported as the median of the per-round ratios:
//   off        no telemetry (the default when no OpenTelemetry provider is registered)
//   on, no exporter   telemetry: { tracing: true } with @opentelemetry/api loaded but no SDK:
//                     the API's no-op tracer, what a service gets with tracing on and nothing
//                     exporting. Target: within 5 % of off.
//   SDK, no processor a real SDK tracer provider with no span processor: every span is created,
//                     sampled and dropped (reported for reference; an exporter adds its own cost).

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type BrokerConfig, connect, openTelemetryApi } from '@switchyard/core';
import { type BenchRow, median } from './types.js';

const BODY = new Uint8Array(256).fill(120);
const BATCH = 1_000;

type Mode = 'off' | 'noop' | 'sdk';

let metric: 'cpu' | 'wall' = 'cpu';

async function handlerThroughput(n: number, mode: Mode, round: number): Promise<number> {
  const name = `bench-otel-${mode}-${round}-${Date.now()}`;
  const config: BrokerConfig = { driver: 'memory', name, retention: 0 };
  if (mode === 'noop') config.telemetry = { tracing: true };
  if (mode === 'sdk') config.telemetry = { tracerProvider: sdkProvider() };
  const broker = await connect(config);
  const consumer = await broker.consumer('bench', { prefetch: 4_000 });
  const producer = await broker.producer('bench', { maxInFlight: 8 });
  const batch = Array.from({ length: BATCH }, () => ({ body: BODY }));
  const started = performance.now();
  const cpu = process.cpuUsage();
  let received = 0;
  const stop = new AbortController();
  const receiving = consumer.run(
    () => {
      if (++received === n) stop.abort();
    },
    { signal: stop.signal, concurrency: 64 },
  );
  const sends: Promise<unknown>[] = [];
  for (let sent = 0; sent < n; sent += BATCH) {
    sends.push(producer.send(batch));
    if (sends.length >= 8) await sends.shift();
  }
  await Promise.all(sends);
  await receiving;
  const elapsed = (performance.now() - started) / 1_000;
  const used = process.cpuUsage(cpu);
  await broker.close();
  // Messages per CPU-second of this process: unlike wall time, not skewed by other processes
  // competing for the machine (the run is single-threaded, so on an idle machine the two agree).
  return metric === 'cpu' ? n / ((used.user + used.system) / 1e6) : n / elapsed;
}

let provider: unknown;
function sdkProvider(): { getTracer(name: string): unknown } {
  if (provider === undefined) {
    openTelemetryApi(); // the API first, so the SDK shares core's instance
    const { BasicTracerProvider } = createRequire(import.meta.url)(
      '@opentelemetry/sdk-trace-base',
    ) as typeof import('@opentelemetry/sdk-trace-base');
    provider = new BasicTracerProvider();
  }
  return provider as { getTracer(name: string): unknown };
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Runs `modes` in ABBA order per round (drift cancels), collected after a GC each. */
async function paired(
  modes: readonly [Mode, Mode],
  n: number,
  rounds: number,
): Promise<Record<Mode, number[]>> {
  const results: Record<Mode, number[]> = { off: [], noop: [], sdk: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? modes : ([modes[1], modes[0]] as const);
    for (const mode of order) {
      gc();
      results[mode].push(await handlerThroughput(n, mode, round));
    }
  }
  return results;
}

export async function benchObservability(
  options: { messages?: number; rounds?: number; metric?: 'cpu' | 'wall' } = {},
): Promise<BenchRow[]> {
  metric = options.metric ?? 'cpu';
  const n = options.messages ?? 300_000;
  const rounds = options.rounds ?? 10;
  if (openTelemetryApi() === undefined) throw new Error('@opentelemetry/api is not installed');
  for (const mode of ['off', 'noop'] as const) await handlerThroughput(100_000, mode, -1); // JIT warm-up
  // The SDK's garbage would slow whatever runs next: measure it apart, after the main pair.
  const main = await paired(['off', 'noop'], n, rounds);
  const reference = await paired(['off', 'sdk'], n, 2);
  // Paired per round (the two modes of a round ran back to back), then the median.
  const ratio = (results: Record<Mode, number[]>, mode: Mode) =>
    median(results[mode].map((value, i) => value / results.off[i]!));
  const noopRatio = ratio(main, 'noop');
  const sdkRatio = ratio(reference, 'sdk');
  const pct = (r: number) => Math.round((1 - r) * 1_000) / 10;
  return [
    {
      name: 'memory + run() handler, tracing off',
      value: Math.round(median(main.off)),
      unit: metric === 'cpu' ? 'msg/CPU-s' : 'msg/s',
    },
    {
      name: 'memory + run() handler, tracing on, no exporter (API no-op tracer)',
      value: Math.round(median(main.noop)),
      unit: metric === 'cpu' ? 'msg/CPU-s' : 'msg/s',
      note: `ratio on/off ${noopRatio.toFixed(3)} (overhead ${pct(noopRatio)} %; target < 5 %); per round ${main.noop
        .map((value, i) => (value / main.off[i]!).toFixed(2))
        .join(' ')}`,
    },
    {
      name: 'memory + run() handler, SDK tracer provider, no span processor',
      value: Math.round(median(reference.sdk)),
      unit: metric === 'cpu' ? 'msg/CPU-s' : 'msg/s',
      note: `ratio ${sdkRatio.toFixed(3)} (2 recorded spans per message; for reference)`,
    },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of await benchObservability())
    console.log(`${row.name}: ${row.value} ${row.unit}${row.note ? ` (${row.note})` : ''}`);
}
