// A crash loop, as a supervisor (systemd, Kubernetes) would run one: test/fixtures/crashing-consumer.ts
// in a child process, SIGKILLing itself on the message whose body is 'poison', restarted after each
// crash. The broker (or the emulator, in the test process) outlives every child, so whatever counts
// deliveries across crashes is the broker's count or one carried with the message; a count kept in
// the consumer process dies with it.

import { spawn } from 'node:child_process';
import type { Consumer, Message } from '@switchyard/core';
import type { AttemptStoreKind } from './fixtures/attempt-store-env.js';

export const POISON = 'poison';

export interface CrashLoopOptions {
  /** SWITCHYARD_URL of every child. */
  readonly url: string;
  readonly source: string;
  readonly group: string;
  readonly deadLetter: string;
  readonly maxDeliveries: number;
  /** Children started at most. */
  readonly runs: number;
  /** Bodies of the healthy messages sent with the poison one. */
  readonly good: readonly string[];
  /** Reads (and acks) the dead-letter destination from the test process. */
  readonly dead: Consumer;
  /** How long one child may take to crash, dead-letter or finish (startup included). */
  readonly runMs?: number;
  /** The durable store every child counts deliveries in (consumer option attemptStore); none by default. */
  readonly attemptStore?: AttemptStoreKind | undefined;
}

export interface CrashLoopResult {
  /** deliveryAttempt of each delivery of the poison message that crashed a child. */
  readonly crashes: number[];
  /** Healthy bodies the children handled, each with the attempts seen. */
  readonly handled: Map<string, number[]>;
  readonly deadLettered: Message[];
  /** Children started. */
  readonly runs: number;
  /** Every child's output, for a failing test to show. */
  readonly output: string[];
}

export async function crashLoop(o: CrashLoopOptions): Promise<CrashLoopResult> {
  const crashes: number[] = [];
  const handled = new Map<string, number[]>();
  const deadLettered: Message[] = [];
  const output: string[] = [];
  const finished = () =>
    deadLettered.some((m) => m.text() === POISON) && o.good.every((body) => handled.has(body));
  let runs = 0;
  while (runs < o.runs && !finished()) {
    runs++;
    const child = spawn(
      'node_modules/.bin/tsx',
      [
        '--conditions=switchyard-source',
        'test/fixtures/crashing-consumer.ts',
        o.source,
        o.group,
        o.deadLetter,
        String(o.maxDeliveries),
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          SWITCHYARD_URL: o.url,
          SWITCHYARD_ATTEMPT_STORE: o.attemptStore ?? '',
          ...pick(process.env, ['SWITCHYARD_REDIS_URL', 'SWITCHYARD_PG_URL']),
        },
      },
    );
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        output.push(`run ${runs}: ${line}`);
        if (line.startsWith('crash ')) crashes.push(Number(line.slice('crash '.length)));
        const handledLine = /^handled (.*) (\d+)$/.exec(line);
        if (handledLine) {
          const seen = handled.get(handledLine[1]!) ?? [];
          seen.push(Number(handledLine[2]));
          handled.set(handledLine[1]!, seen);
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => output.push(`run ${runs} stderr: ${chunk.toString().trim()}`));
    let gone = false;
    const exited = new Promise<void>((resolve) =>
      child.on('exit', () => {
        gone = true;
        resolve();
      }),
    );
    // A child ends its run by crashing; one that no longer crashes (the poison message is
    // dead-lettered) is stopped once everything it should handle is handled.
    const deadline = Date.now() + (o.runMs ?? 60_000);
    while (!gone && !finished() && Date.now() < deadline) {
      for (const m of await o.dead.receive({ max: 10, waitMs: 200 })) {
        deadLettered.push(m);
        await m.ack();
      }
    }
    if (!gone) {
      child.kill('SIGTERM');
      await exited;
    }
  }
  // A copy may still be on its way when the last child stopped; a second copy would be a fault.
  for (const m of await o.dead.receive({ max: 10, waitMs: 500 })) {
    deadLettered.push(m);
    await m.ack();
  }
  if (process.env.DEBUG_CRASH_LOOP) console.log(output.join('\n'));
  return { crashes, handled, deadLettered, runs, output };
}

/** Healthy bodies handled by no child (lost, as far as the loop could see). */
export function unhandled(result: CrashLoopResult, good: readonly string[]): string[] {
  return good.filter((body) => !result.handled.has(body));
}

/** Dead-lettered messages other than the poison one. */
export function wronglyDeadLettered(result: CrashLoopResult): string[] {
  return result.deadLettered.map((m) => m.text()).filter((body) => body !== POISON);
}

/** The variables of `env` among `names` that are set. */
function pick(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((n) => (env[n] === undefined ? [] : [[n, env[n]]])));
}
