import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('examples/quickstart', () => {
  it('runs on the embedded memory broker and exits 0', async () => {
    const env = { ...process.env };
    delete env.SWITCHYARD_URL;
    const { stdout } = await run(
      'npx',
      ['tsx', '--conditions=switchyard-source', 'examples/quickstart/main.ts'],
      {
        env,
        timeout: 60_000,
      },
    );
    expect(stdout).toContain('connected: memory');
    expect(stdout).toContain('received order-1: plain text order');
    expect(stdout).toContain(
      'received order-2: {"order":2,"items":["tea","cake"]} (application/json, attempt 1)',
    );
    expect(stdout).toContain('received order-3: deadbeef (application/octet-stream');
    expect(stdout).toContain('closed cleanly');
  });
});
