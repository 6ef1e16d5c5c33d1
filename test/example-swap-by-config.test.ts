import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const EXPECTED =
  'handled order-1={"order":1,"items":["tea"]}, order-2={"order":2,"items":["tea"]}, order-3={"order":3,"items":["tea"]}';

function clean(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  delete base.SWITCHYARD_URL;
  delete base.SWITCHYARD_CONFIG;
  return { ...base, ...env };
}

function example(env: Record<string, string>, args: string[] = []) {
  return run('npx', ['tsx', '--conditions=switchyard-source', 'examples/swap-by-config/main.ts', ...args], {
    env: clean(env),
    timeout: 90_000,
  });
}

describe('examples/swap-by-config', () => {
  it('`npm start`: the same service on every backend (in-process emulator, RabbitMQ), one table row each', async () => {
    const { stdout, stderr } = await run('npm', ['start', '--silent'], { env: clean({}), timeout: 90_000 });
    const rows = new Map(
      stdout
        .split('\n')
        .map((line) => line.trim().split(/\s{2,}/))
        .filter((cells) => cells.length >= 4)
        .map((cells) => [cells[0], cells.slice(1)]),
    );
    expect(rows.get('backend')).toEqual(['sent', 'received', 'ok', 'ms']);
    // RabbitMQ is reachable here (the test services start it), so every backend must run.
    for (const backend of ['memory', 'rabbitmq', 'cmq', 'pulsar-http', 'rocketmq', 'rocketmq (remoting)']) {
      const [sent, received, ok] = rows.get(backend) ?? [];
      expect({ backend, sent, received, ok }).toEqual({ backend, sent: '100', received: '100', ok: 'yes' });
    }
    expect(stdout).toContain('closed cleanly');
    // No driver, Node or npm warning on the way (a deprecation, a leaked handle, a retry).
    expect(stderr).toBe('');
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
