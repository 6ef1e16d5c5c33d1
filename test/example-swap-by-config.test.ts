import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const EXPECTED =
  'handled order-1={"order":1,"items":["tea"]}, order-2={"order":2,"items":["tea"]}, order-3={"order":3,"items":["tea"]}';

function example(env: Record<string, string>, args: string[] = []) {
  const base = { ...process.env };
  delete base.SWITCHYARD_URL;
  delete base.SWITCHYARD_CONFIG;
  return run('npx', ['tsx', '--conditions=switchyard-source', 'examples/swap-by-config/main.ts', ...args], {
    env: { ...base, ...env },
    timeout: 90_000,
  });
}

describe('examples/swap-by-config', () => {
  it('runs the same service on every backend through generated config files; exits 0', async () => {
    const { stdout } = await example({});
    for (const backend of ['memory', 'rabbitmq', 'cmq', 'pulsar-http'])
      expect(stdout).toContain(`${backend}: ${EXPECTED}`);
    // RocketMQ runs when its driver package is installed, and says why when it is skipped.
    expect(stdout).toMatch(
      /rocketmq: (handled order-1=.*order-3=|skipped \(@switchyard\/rocketmq is not installed\))/,
    );
    expect(stdout).toContain('closed cleanly');
  }, 100_000);

  it('runs against SWITCHYARD_URL, and against a binding named on the command line', async () => {
    const byUrl = await example({ SWITCHYARD_URL: 'amqp://guest:guest@127.0.0.1:5672' });
    expect(byUrl.stdout).toContain(`rabbitmq: ${EXPECTED}`);
    const dir = await mkdtemp(join(tmpdir(), 'swap-example-'));
    try {
      const config = join(dir, 'switchyard.config.yaml');
      await writeFile(
        config,
        `brokers:\n  mem: { url: "memory://x" }\nbindings:\n  checkout-orders: { broker: mem, destination: co-orders }\n`,
      );
      const byBinding = await example({ SWITCHYARD_CONFIG: config }, ['checkout-orders']);
      expect(byBinding.stdout).toContain(`config:checkout-orders: ${EXPECTED}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 100_000);
});
