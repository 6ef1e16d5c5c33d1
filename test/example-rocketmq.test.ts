import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('examples/rocketmq: tags filter, keys arrive, exits 0 (against the in-process emulator)', {
  timeout: 60_000,
}, async () => {
  const env = { ...process.env };
  delete env.SWITCHYARD_URL;
  const { stdout } = await run(
    'npx',
    ['tsx', '--conditions=switchyard-source', 'examples/rocketmq/main.ts'],
    {
      env,
      timeout: 60_000,
    },
  );
  const lines = stdout.split('\n');
  expect(lines).toContain('connected: rocketmq (local emulator)');
  expect(lines).toContain(
    'topic rocketmq-demo01|ns_demo%topic_demo, group rocketmq-demo01|ns_demo%group_demo',
  );
  expect(lines.filter((l) => l.startsWith('sent order-'))).toHaveLength(4);
  expect(lines.filter((l) => l.startsWith('received and acked:'))).toEqual([
    'received and acked: order-1 tag TagA key order-1 attempt 1',
    'received and acked: order-2 tag TagB key order-2 attempt 1',
    'received and acked: order-4 tag TagA key order-4 attempt 1',
  ]);
  expect(stdout).not.toContain('order-3 tag TagC key');
  expect(lines).toContain('closed cleanly');
});
