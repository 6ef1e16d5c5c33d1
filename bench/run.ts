// `npm run bench`: every benchmark section in one run, written to bench/results/latest.md (a
// Markdown table) and latest.json. Driver sections compare Switchyard with two raw clients in the
// same run — the expert one (same batching, pipelining and ack coalescing as Switchyard) and the
// naive one-at-a-time one — with client CPU per message beside each throughput, so their ratios
// hold on any machine; absolute figures are this machine's. What else used the CPU during the run
// is recorded (machine-cpu.ts): the ratios are paired per round, but a busy machine widens their
// spread.
//
// Each section runs in a fresh child process of its own: a section measured after others in one
// process inherited their heap and compiled code, and the Pulsar-over-HTTP pipelined sends ran at
// 2.6–2.8k msg/s there against 4.4–5.2k alone (docs/bench-profiles.md §26.6, §27). Within a
// section both sides still share one process, paired per round.
//
// Switchyard runs from the packages' built dist/ (the script builds first), as users run it: the
// TypeScript sources through tsx carry esbuild's keepNames, a defineProperty and a stored name for
// every named closure, which the raw clients (plain JavaScript) never pay. Emulators and scaling
// children may run from source: they are the same for both sides or not compared.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshPageCostUs } from './fresh-pages.js';
import { cpuShare, cpuSnapshot, describeCpuShare } from './machine-cpu.js';
import type { BenchRow, BenchSection } from './types.js';

type Bench = () => Promise<BenchRow[]>;

/** Optional sections: a module that is not in the tree yet (a later driver) is listed as absent. */
const optional: Array<{ title: string; module: string; exportName: string }> = [
  {
    title: 'Memory driver through the portable layer',
    module: './memory.js',
    exportName: 'benchMemory',
  },
  {
    title: 'RabbitMQ (real broker on 127.0.0.1:5672) vs expert and one-at-a-time raw amqplib',
    module: './rabbitmq.js',
    exportName: 'benchRabbitmq',
  },
  {
    title: 'Emulator: CMQ HTTP API request rates',
    module: './emulator-cmq.js',
    exportName: 'benchEmulatorCmq',
  },
  {
    title: 'CMQ (emulator) vs expert and one-request-at-a-time raw clients',
    module: './cmq.js',
    exportName: 'benchCmq',
  },
  {
    title:
      'Pulsar over HTTP (emulator) vs direct tencentcloud-sdk-nodejs calls (pipelined and one at a time)',
    module: './pulsar-http.js',
    exportName: 'benchPulsarHttp',
  },
  {
    title: 'RocketMQ 5 (emulator) vs raw rocketmq-client-nodejs at its best settings',
    module: './rocketmq.js',
    exportName: 'benchRocketmq',
  },
  {
    title: 'RocketMQ 4.x Remoting (emulator) vs the same protocol pipelined and one message at a time',
    module: './rocketmq-remoting.js',
    exportName: 'benchRocketmqRemoting',
  },
  {
    title: 'MQTT (Mosquitto on 127.0.0.1:1883) vs raw MQTT.js at QoS 1',
    module: './mqtt.js',
    exportName: 'benchMqtt',
  },
  {
    title: 'switchyard bridge (RabbitMQ → RabbitMQ) vs a raw amqplib copy loop',
    module: './bridge.js',
    exportName: 'benchBridge',
  },
  {
    title: 'Memory driver: tracing overhead (off vs on without exporter)',
    module: './observability.js',
    exportName: 'benchObservability',
  },
];

/** Set in a section's child process: the file its rows go to. */
const SECTION_OUT = process.env.BENCH_SECTION_OUT;

/** Loads and runs one section in this process. */
async function runSection(module: string, exportName: string): Promise<BenchRow[]> {
  let bench: Bench | undefined;
  let absent = `${module} has no ${exportName}`;
  try {
    bench = ((await import(module)) as Record<string, Bench>)[exportName];
  } catch (error) {
    absent = `${module} did not load: ${(error as Error).message.split('\n')[0]}`;
  }
  if (bench === undefined) return [{ name: 'not run', value: 0, unit: '', note: absent }];
  try {
    return await bench();
  } catch (error) {
    return [{ name: 'failed', value: 0, unit: '', note: (error as Error).message }];
  }
}

/**
 * Runs one section in a fresh Node process with this process's loader flags (tsx), so it starts
 * with an empty heap and no code compiled by earlier sections; its rows come back through a file.
 */
async function runSectionInChild(index: number, dir: string): Promise<BenchRow[]> {
  const out = join(dir, `section-${index}.json`);
  const script = fileURLToPath(import.meta.url);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, BENCH_SECTION: String(index), BENCH_SECTION_OUT: out },
    });
    child.once('error', reject);
    child.once('exit', (exitCode, signal) => resolve(signal === null ? exitCode : -1));
  });
  try {
    return JSON.parse(readFileSync(out, 'utf8')) as BenchRow[];
  } catch {
    return [
      {
        name: 'failed',
        value: 0,
        unit: '',
        note: `the section's process exited with ${code} before writing its rows`,
      },
    ];
  }
}

async function main(): Promise<void> {
  if (SECTION_OUT !== undefined) {
    const { module, exportName } = optional[Number(process.env.BENCH_SECTION)]!;
    writeFileSync(SECTION_OUT, JSON.stringify(await runSection(module, exportName)));
    // A section may leave a timer or socket behind; its rows are written, so the process is done.
    process.exit(0);
  }
  const only = process.argv.slice(2);
  const loadBefore = loadavg()[0]!;
  const cpuBefore = cpuSnapshot();
  const startedAt = performance.now();
  const pageUs = freshPageCostUs();
  const sections: BenchSection[] = [];
  const wanted = (title: string) =>
    only.length === 0 || only.some((o) => title.toLowerCase().includes(o.toLowerCase()));
  const scratch = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  try {
    for (const [index, { title }] of optional.entries()) {
      if (!wanted(title)) continue;
      console.error(`bench: ${title}…`);
      sections.push({ title, rows: await runSectionInChild(index, scratch) });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, first touch of a newly mapped 4 KiB page ≈ ${pageUs.toFixed(1)} µs`;
  const at = new Date().toISOString();
  const loadAfter = loadavg()[0]!;
  const cpuAfter = cpuSnapshot();
  // The load average counts the bench's own processes and brokers too; the CPU counters tell them apart.
  const share =
    cpuBefore && cpuAfter
      ? `; ${describeCpuShare(cpuShare(cpuBefore, cpuAfter, (performance.now() - startedAt) / 1000), cpus().length)}`
      : '';
  const load = `load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after${share}`;
  // The headline: every Switchyard / expert ratio in one table (the sections hold both baselines).
  const key = sections.flatMap((s) => s.rows.filter((r) => r.name.endsWith(': Switchyard / expert')));
  const md = [
    '# Benchmark results',
    '',
    `Measured ${at} on ${machine} (${load}) by \`npm run bench\` (Switchyard from the built packages). Targets are reported, never asserted in tests.`,
    "Client CPU µs/msg is the bench process's CPU (user + system) over the phase divided by the messages;",
    "brokers and emulators run in other processes, so it is the client's alone. Ratios are medians of",
    'per-round ratios (each round measures both sides back to back); the range is in each note.',
    'Profiles behind the rows under 1.0× or over 1.15× client CPU: docs/bench-profiles.md.',
    '',
    '## Key ratios: Switchyard / expert raw client',
    '',
    '| Row | Throughput | Note |',
    '|---|---:|---|',
    ...key.map(
      (r) =>
        `| ${r.name.replace(': Switchyard / expert', '')} | ${r.value}× | ${(r.note ?? '').split('. Profile:')[0]} |`,
    ),
    '',
    ...sections.flatMap((s) => [
      `## ${s.title}`,
      '',
      '| Measure | Value | Unit | Client CPU µs/msg | Note |',
      '|---|---:|---|---:|---|',
      ...s.rows.map(
        (r) =>
          `| ${r.name} | ${r.value.toLocaleString('en')} | ${r.unit} | ${r.cpuUsPerMsg?.toLocaleString('en') ?? ''} | ${r.note ?? ''} |`,
      ),
      '',
    ]),
  ].join('\n');
  // BENCH_OUT sends a partial run (one section, while working on it) somewhere other than the
  // committed results; set but empty, the committed results (not a run lost at the end to mkdir('')).
  const dir = process.env.BENCH_OUT || fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.md'), md);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify({ at, machine, sections }, null, 2)}\n`);
  console.log(md);
}

await main();
