// The RabbitMQ section's publish/consume rotation of bench/rabbitmq.ts (the same four contenders,
// the same warm-up and measured rounds, the same sizes in the same order), with each phase's minor
// page faults, CPU and the process's memory printed, to find which side meets freshly mapped pages
// in the bench process's state (after the 256 B rows) and why (docs/bench-profiles.md §23.0).
//   node --import tsx bench/profile-rabbitmq-faults.ts [sizes] [rounds]
// sizes: `bytes:count:warm` list, default the bench's `256:10000:6,65536:1500:4`; rounds default 5.
// SIDES=naive,expert,sy,driver (the bench's four, in its order); PUBLISH_ONLY=1 prints publish
// phases only; PHASES=1 prints each publish phase's CLOCK_MONOTONIC span (cut a `perf record -k
// CLOCK_MONOTONIC` to it). RABBITMQ_DRIVER=<another build's dist/index.js> runs that driver.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { connect, registerDriver } from '@switchyard/core';
import type { DriverModule } from '@switchyard/core/driver';
import { driver as builtDriver } from '@switchyard/rabbitmq';
import { type Contender, driverContender, rawContender, switchyardContender } from './rabbitmq.js';

const url = 'amqp://guest:guest@127.0.0.1:5672';
const sizes = (process.argv[2] ?? '256:10000:6,65536:1500:4').split(',').map((s) => {
  const [bytes, count, warm] = s.split(':').map(Number);
  return { bytes: bytes!, count: count!, warm: warm! };
});
const ROUNDS = Number(process.argv[3] ?? 5);
const publishOnly = process.env.PUBLISH_ONLY === '1';

const rabbitDriver: DriverModule =
  process.env.RABBITMQ_DRIVER === undefined
    ? builtDriver
    : ((await import(pathToFileURL(process.env.RABBITMQ_DRIVER).href)) as { driver: DriverModule }).driver;
registerDriver(rabbitDriver);

/** VmRSS, RssAnon and the heap segment (brk) size, KiB, from /proc. */
function memory(): string {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const heap = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => l.endsWith('[heap]'))
    .map((l) => {
      const [a, b] = l.split(' ')[0]!.split('-');
      return (Number.parseInt(b!, 16) - Number.parseInt(a!, 16)) / 1024;
    })[0];
  const m = process.memoryUsage();
  const mib = (n: number) => (n / 2 ** 20).toFixed(0);
  return `rss ${(field('VmRSS') / 1024).toFixed(0)} MiB, brk heap ${((heap ?? 0) / 1024).toFixed(0)} MiB, arrayBuffers ${mib(m.arrayBuffers)} MiB, V8 heap ${mib(m.heapTotal)} MiB`;
}

const glibcSizes = new Set((process.env.GLIBC_SIZES ?? '65536').split(',').map(Number));
/** GLIBC=1: glibc malloc's thresholds and main arena, read with gdb (the process waits meanwhile). */
function glibc(): string {
  const out = execFileSync(
    'gdb',
    [
      '-p',
      String(process.pid),
      '-batch',
      '-nx',
      '-iex',
      'set auto-solib-add off',
      '-ex',
      'sharedlibrary libc.so',
      '-ex',
      'p mp_.mmap_threshold',
      '-ex',
      'p mp_.trim_threshold',
      '-ex',
      'p mp_.no_dyn_threshold',
      '-ex',
      'p main_arena.top->mchunk_size',
      '-ex',
      'p main_arena.system_mem',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const v = [...out.matchAll(/^\$\d+ = (\d+)/gm)].map((m) => Number(m[1]));
  const k = (n: number | undefined) => `${((n ?? 0) / 1024).toFixed(0)} KiB`;
  return `glibc: mmap threshold ${k(v[0])}, trim threshold ${k(v[1])}${v[2] ? ' (fixed)' : ''}, main arena top ${k(v[3])} of ${k(v[4])}`;
}

async function phase(label: string, count: number, work: () => Promise<void>, print: boolean): Promise<void> {
  const probe = process.env.GLIBC === '1' && glibcSizes.has(Number(label.split(' ').at(-1)));
  const before = probe ? `${memory()}; ${glibc()}` : memory();
  const faults = process.resourceUsage().minorPageFault;
  const cpu = process.cpuUsage();
  const from = process.hrtime.bigint();
  await work();
  const to = process.hrtime.bigint();
  const used = process.cpuUsage(cpu);
  const faulted = process.resourceUsage().minorPageFault - faults;
  if (!print) return;
  if (process.env.PHASES === '1' && label.includes('publish')) console.log(`phase ${label} ${from} ${to}`);
  console.log(
    `${label.padEnd(22)} ${((used.user + used.system) / count).toFixed(1).padStart(7)} µs CPU/msg, ${(faulted / count).toFixed(2).padStart(6)} faults/msg; before: ${before}`,
  );
}

const id = randomBytes(3).toString('hex');
const broker = await connect(url);
const wanted = (process.env.SIDES ?? 'naive,expert,sy,driver').split(',');
const contenders: Record<string, Contender> = {};
for (const key of wanted) {
  if (key === 'naive') contenders[key] = await rawContender(url, `bench-naive-${id}`, false);
  if (key === 'expert') contenders[key] = await rawContender(url, `bench-expert-${id}`, true);
  if (key === 'sy') contenders[key] = await switchyardContender(broker, url, `bench-sy-${id}`);
  if (key === 'driver') contenders[key] = await driverContender(url, `bench-drv-${id}`, rabbitDriver);
}
const settle = () => new Promise((r) => setTimeout(r, 200));
try {
  for (const { bytes, count, warm } of sizes) {
    const body = randomBytes(bytes);
    const order = Object.keys(contenders);
    for (const key of order)
      for (let w = 0; w < warm; w++) {
        await contenders[key]!.publish(body, count);
        await contenders[key]!.consume(count);
      }
    console.log(
      `-- ${bytes} B × ${count}, after ${warm} warm-up rounds: ${memory()}${process.env.GLIBC === '1' ? `; ${glibc()}` : ''}`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < order.length; i++) {
        const key = order[(i + round) % order.length]!;
        const side = contenders[key]!;
        await settle();
        await phase(`${key} publish ${bytes}`, count, () => side.publish(body, count), true);
        await settle();
        await phase(`${key} consume ${bytes}`, count, () => side.consume(count), !publishOnly);
      }
    }
  }
} finally {
  for (const side of Object.values(contenders)) await side.close();
  await broker.close();
}
