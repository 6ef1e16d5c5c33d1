import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

/** The value of one summary line ("  lost:   0" → "0"). */
function field(stdout: string, name: string): string {
  const line = stdout.split('\n').find((l) => l.trimStart().startsWith(`${name}:`));
  expect(line, `summary line "${name}"`).toBeDefined();
  return line!.slice(line!.indexOf(':') + 1).trim();
}

const number = (stdout: string, name: string) => Number.parseInt(field(stdout, name), 10);

it('examples/migration: CMQ → RocketMQ by config changes, bridge drain, cut-over; every order handled exactly once', {
  timeout: 90_000,
}, async () => {
  const env = { ...process.env };
  for (const name of ['SWITCHYARD_URL', 'SWITCHYARD_CONFIG']) delete env[name];
  const { stdout } = await run(
    'npx',
    ['tsx', '--conditions=switchyard-source', 'examples/migration/main.ts'],
    { env, timeout: 90_000 },
  );
  const lines = stdout.split('\n');

  // The CLI's doctor checked the dual-write binding before anything moved.
  expect(lines.some((l) => l.includes('switchyard doctor --url config:orders.write-both → exit 0'))).toBe(
    true,
  );
  expect(stdout).toContain('doctor: all checks passed');
  // Each step is a binding of the config file, in TDMQ's order.
  const steps = [
    'orders.before (writes cmq; reads cmq)',
    'orders.read-both (writes cmq; reads cmq + rocketmq)',
    'orders.write-both (writes cmq + rocketmq (require both); reads cmq + rocketmq)',
    'orders.write-new (writes rocketmq; reads cmq + rocketmq)',
    'orders.after (writes rocketmq; reads rocketmq)',
  ];
  const at = steps.map((step) => lines.findIndex((l) => l.includes(`binding ${step}`)));
  expect(at.every((i) => i >= 0)).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
  // A backlog was left on CMQ before the drain.
  // (40 sent, 10 handled; a message the stopping consumer had just received may still be in flight.)
  const backlog = /old queue \(GetQueueAttributes\): (\d+) waiting, (\d+) in flight/.exec(stdout);
  expect(Number(backlog?.[1]) + Number(backlog?.[2])).toBe(30);

  // The bridge (the CLI's own code) drained the old queue, and the old queue was empty at cut-over.
  const bridge = lines.find((l) => l.includes('"stoppedBy"'));
  const summary = JSON.parse(bridge!.slice(bridge!.indexOf('{'))) as Record<string, unknown>;
  expect(summary).toMatchObject({ ok: true, failed: 0, givenBack: 0, stoppedBy: 'idle' });
  expect(summary.bridged).toBeGreaterThan(0);
  expect(number(stdout, 'moved by the bridge')).toBe(summary.bridged);
  expect(field(stdout, 'old CMQ queue at cut-over')).toBe('0 waiting, 0 in flight, 0 delayed');

  // Exactly once: every key handled, none twice, and the duplicates dual-write produced were seen
  // and suppressed (20 orders went to both brokers, so at least 20 second copies arrived).
  expect(number(stdout, 'orders sent (unique keys)')).toBe(90);
  expect(number(stdout, 'copies written')).toBe(110);
  expect(number(stdout, 'unique keys handled')).toBe(90);
  expect(number(stdout, 'lost')).toBe(0);
  expect(number(stdout, 'handled twice')).toBe(0);
  expect(number(stdout, 'copies never delivered')).toBe(0);
  const duplicates = number(stdout, 'duplicate deliveries suppressed');
  expect(duplicates).toBeGreaterThanOrEqual(20);
  expect(field(stdout, 'duplicate deliveries suppressed')).toContain('(20 second copies from dual-write');
  expect(number(stdout, 'deliveries to the service')).toBe(90 + duplicates);
  expect(lines).toContain('exactly once: every order handled once, none lost');
});
