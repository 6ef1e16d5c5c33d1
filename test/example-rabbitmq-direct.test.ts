import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { requireBroker } from './rabbitmq-helpers.js';

const run = promisify(execFile);

it('examples/rabbitmq-direct receives exactly the two bound routing keys and exits 0', async () => {
  await requireBroker();
  const env = { ...process.env };
  delete env.SWITCHYARD_URL;
  const { stdout } = await run(
    'npx',
    ['tsx', '--conditions=switchyard-source', 'examples/rabbitmq-direct/main.ts'],
    { env, timeout: 60_000 },
  );
  expect(stdout).toContain('connected: rabbitmq');
  for (const key of ['aaa.bbb.ccc', 'aaa.bbb.ddd', 'aaa.ccc.zzz', 'xxx.yyy.zzz'])
    expect(stdout).toContain(`sent [${key}]`);
  expect(stdout).toContain('received [aaa.bbb.ccc] hello aaa.bbb.ccc');
  expect(stdout).toContain('received [aaa.ccc.zzz] hello aaa.ccc.zzz');
  expect(stdout).not.toContain('unexpected');
  expect(stdout).not.toMatch(/received \[(aaa\.bbb\.ddd|xxx\.yyy\.zzz)\]/);
  expect(stdout).toContain('received 2 of 4');
  expect(stdout).toContain('closed cleanly');
}, 60_000);
