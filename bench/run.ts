// `npm run bench`: every benchmark section in one run, written to bench/results/latest.md (a
// Markdown table) and latest.json. Driver sections compare Switchyard with the raw client in the
// same run, so their ratios hold on any machine; absolute figures are this machine's.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchMemory } from './memory.js';
import type { BenchRow, BenchSection } from './types.js';

type Bench = () => Promise<BenchRow[]>;

/** Optional sections: a module that is not in the tree yet (a later driver) is listed as absent. */
const optional: Array<{ title: string; module: string; exportName: string }> = [
  {
    title: 'RabbitMQ (real broker on 127.0.0.1:5672) vs raw amqplib',
    module: './rabbitmq.js',
    exportName: 'benchRabbitmq',
  },
  {
    title: 'Emulator: CMQ HTTP API request rates',
    module: './emulator-cmq.js',
    exportName: 'benchEmulatorCmq',
  },
  {
    title: 'CMQ (emulator) vs a plain one-request-at-a-time client',
    module: './cmq.js',
    exportName: 'benchCmq',
  },
  {
    title: 'Pulsar over HTTP (emulator) vs direct tencentcloud-sdk-nodejs calls',
    module: './pulsar-http.js',
    exportName: 'benchPulsarHttp',
  },
  {
    title: 'RocketMQ 5 (emulator) vs raw rocketmq-client-nodejs',
    module: './rocketmq.js',
    exportName: 'benchRocketmq',
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

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const sections: BenchSection[] = [];
  const wanted = (title: string) =>
    only.length === 0 || only.some((o) => title.toLowerCase().includes(o.toLowerCase()));
  if (wanted('memory')) {
    console.error('bench: memory driver…');
    sections.push({ title: 'Memory driver through the portable layer', rows: await benchMemory() });
  }
  for (const { title, module, exportName } of optional) {
    if (!wanted(title)) continue;
    let bench: Bench | undefined;
    try {
      bench = ((await import(module)) as Record<string, Bench>)[exportName];
    } catch {
      bench = undefined;
    }
    if (bench === undefined) {
      sections.push({
        title,
        rows: [{ name: 'not run', value: 0, unit: '', note: `${module} is not in this tree yet` }],
      });
      continue;
    }
    console.error(`bench: ${title}…`);
    try {
      sections.push({ title, rows: await bench() });
    } catch (error) {
      sections.push({
        title,
        rows: [{ name: 'failed', value: 0, unit: '', note: (error as Error).message }],
      });
    }
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const at = new Date().toISOString();
  const md = [
    '# Benchmark results',
    '',
    `Measured ${at} on ${machine} by \`npm run bench\`. Targets are reported, never asserted in tests.`,
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
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}latest.md`, md);
  writeFileSync(`${dir}latest.json`, `${JSON.stringify({ at, machine, sections }, null, 2)}\n`);
  console.log(md);
}

await main();
