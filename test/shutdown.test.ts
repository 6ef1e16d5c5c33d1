// SIGTERM to a consuming service during processing: in-flight handlers finish, acks are flushed,
// the process exits by itself within its drain timeout, and a restart picks up exactly where it
// stopped (nothing lost; duplicates only for work that was not acked).

import { spawn } from 'node:child_process';
import { connect } from '@switchyard/core';
import { describe, expect, it } from 'vitest';

const URL = 'amqp://guest:guest@127.0.0.1:5672';
const TOTAL = 300;

function startService(source: string) {
  const child = spawn(
    'npx',
    ['tsx', '--conditions=switchyard-source', 'test/fixtures/consuming-service.ts', source],
    {
      // A plain environment: the test runner's own (NODE_OPTIONS and the like) is not the service's.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SWITCHYARD_URL: URL },
    },
  );
  const lines: string[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  });
  // Resolves with the service's own exit code once every process writing to the pipe is gone.
  const exited = new Promise<number | null>((resolve) =>
    child.stdout.on('close', () => {
      const last = lines.findLast((l) => l.startsWith('exit '));
      resolve(last === undefined ? null : Number(last.slice(5)));
    }),
  );
  const terminate = () => {
    const ready = lines.find((l) => l.startsWith('ready '));
    if (ready === undefined) throw new Error('the service never said it was ready');
    process.kill(Number(ready.slice(6)), 'SIGTERM');
  };
  return { child, lines, exited, terminate };
}

async function until(predicate: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('shutdown under load', () => {
  it('SIGTERM drains in-flight work, exits by itself, and a restart continues where it stopped', {
    timeout: 90_000,
  }, async () => {
    const source = `shutdown-${process.pid}-${Date.now()}`;
    const first = startService(source);
    await until(() => first.lines.some((l) => l.startsWith('ready')), 30_000);
    const broker = await connect(URL);
    const producer = await broker.producer(source);
    await producer.send(Array.from({ length: TOTAL }, (_, i) => ({ body: `m-${i}` })));

    await until(() => first.lines.filter((l) => l.startsWith('done ')).length >= 60, 30_000);
    first.terminate();
    // Exiting 0 with 'stopped' (below), not being killed by the test's timeout, shows the drain
    // kept its deadline.
    const code = await first.exited;

    expect(code).toBe(0);
    expect(first.lines).toContain('stopped');
    const started = first.lines.filter((l) => l.startsWith('start ')).map((l) => l.slice(6));
    const done = new Set(first.lines.filter((l) => l.startsWith('done ')).map((l) => l.slice(5)));
    // Every handler that started before the signal finished.
    for (const body of started) expect(done.has(body), `${body} finished`).toBe(true);

    const second = startService(source);
    await until(() => second.lines.some((l) => l.startsWith('ready')), 30_000);
    await until(() => {
      const all = new Set([
        ...done,
        ...second.lines.filter((l) => l.startsWith('done ')).map((l) => l.slice(5)),
      ]);
      return all.size === TOTAL;
    }, 30_000);
    const again = second.lines.filter((l) => l.startsWith('done ')).map((l) => l.slice(5));
    const duplicates = again.filter((body) => done.has(body));
    // Handled and acked before the stop: never again. Anything else is at most what was in flight.
    expect(duplicates.length).toBeLessThanOrEqual(10);
    console.info(
      `shutdown: first handled ${done.size}, second ${again.length}, duplicates ${duplicates.length}`,
    );
    second.terminate();
    expect(await second.exited).toBe(0);
    await broker.close();
  });
});
