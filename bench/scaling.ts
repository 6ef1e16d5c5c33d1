// Scaling rows: 1, 2 and 4 consumer processes in one group drain the same prefilled backlog.
// Each member is a child process (scale-consumer.child.ts) running Switchyard's run(); the parent
// starts them all at once and times until their reported counts reach the backlog.

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { connect } from '@switchyard/core';
import { TS_CHILD_ARGV } from './emulator-process.js';
import type { BenchRow } from './types.js';

export interface ScalingJob {
  readonly label: string;
  readonly target: Parameters<typeof connect>[0];
  readonly destination: string;
  readonly options: Record<string, unknown>;
  readonly count: number;
  /** Puts `count` messages where the group will read them (called before each measurement). */
  fill(count: number): Promise<void>;
  readonly processes?: readonly number[];
  readonly note?: string;
}

const CHILD = fileURLToPath(new URL('./scale-consumer.child.ts', import.meta.url));
const HANG_MS = 180_000;

async function drain(job: ScalingJob, members: number): Promise<number> {
  const children: ChildProcess[] = [];
  try {
    const ready = [];
    for (let i = 0; i < members; i++) {
      const child = fork(CHILD, [JSON.stringify(job)], {
        execArgv: TS_CHILD_ARGV,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      ready.push(
        new Promise<void>((resolve, reject) => {
          child.once('message', () => resolve());
          child.once('exit', (code) => reject(new Error(`${job.label}: consumer child exited (${code})`)));
        }),
      );
    }
    await Promise.all(ready);
    let handled = 0;
    const done = new Promise<void>((resolve, reject) => {
      const hang = setTimeout(
        () => reject(new Error(`${job.label}: ${members} consumers stalled at ${handled}/${job.count}`)),
        HANG_MS,
      );
      // The last few messages of each child arrive below REPORT_EVERY: ask for them while short.
      const asker = setInterval(() => {
        for (const c of children) c.send({ op: 'flush' });
      }, 50);
      for (const child of children)
        child.on('message', (m: { handled?: number }) => {
          handled += m.handled ?? 0;
          if (handled >= job.count) {
            clearTimeout(hang);
            clearInterval(asker);
            resolve();
          }
        });
    });
    const started = performance.now();
    for (const child of children) child.send({ op: 'go' });
    await done;
    return (job.count / (performance.now() - started)) * 1000;
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null) return resolve(undefined);
            child.once('exit', resolve);
            child.send({ op: 'stop' });
          }),
      ),
    );
  }
}

/** One row per process count; the note gives each row's speed-up over one process. */
export async function scalingRows(job: ScalingJob): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let one = 0;
  for (const members of job.processes ?? [1, 2, 4]) {
    await job.fill(job.count);
    const rate = await drain(job, members);
    if (members === 1) one = rate;
    rows.push({
      name: `${job.label}: ${members} consumer process${members > 1 ? 'es' : ''} in one group`,
      value: Math.round(rate),
      unit: 'msg/s',
      note: `${job.count} messages prefilled${one > 0 && members > 1 ? `; ${Math.round((rate / one) * 100) / 100}× one process` : ''}${job.note ? `; ${job.note}` : ''}`,
    });
  }
  return rows;
}
