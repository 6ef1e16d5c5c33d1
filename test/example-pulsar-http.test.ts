import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('examples/pulsar-http', () => {
  it('runs the TDMQ Pulsar HTTP quick start against an in-process emulator and exits 0', async () => {
    const env = { ...process.env };
    delete env.SWITCHYARD_URL;
    const { stdout } = await run(
      'npx',
      ['tsx', '--conditions=switchyard-source', 'examples/pulsar-http/main.ts'],
      {
        env,
        timeout: 60_000,
      },
    );
    expect(stdout).toContain('started the TDMQ emulator');
    expect(stdout).toContain('connected: pulsar-http');
    expect(stdout).toMatch(/sent 3 messages \(message ids \d+:\d+:\d+, /);
    for (const text of ['hello TDMQ', 'second message', 'third message']) {
      expect(stdout).toContain(`received and acknowledged: ${text} (attempt 1)`);
    }
    expect(stdout).toContain('after acknowledging: 0 messages pending');
    expect(stdout).toContain('closed cleanly');
  });
});
