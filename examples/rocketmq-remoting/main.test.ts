import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('examples/rocketmq-remoting: seed 002 over Remoting — send with tags and keys, one retry, exit 0', {
  timeout: 60_000,
}, async () => {
  const env = { ...process.env };
  delete env.SWITCHYARD_URL;
  delete env.NAMESPACE;
  const { stdout } = await run(
    'npx',
    ['tsx', '--conditions=switchyard-source', 'examples/rocketmq-remoting/main.ts'],
    {
      env,
      timeout: 60_000,
    },
  );
  const lines = stdout.split('\n');
  expect(lines).toContain('connected: rocketmq over Remoting (local emulator)');
  expect(lines.filter((l) => l.startsWith('received attempt'))).toEqual([
    'received attempt 1: This is a new message. (tags TagA, key order-1)',
    'received attempt 2: This is a new message. (tags TagA, key order-1)',
  ]);
  expect(lines).toContain('consumed after one retry; closed cleanly');
});
