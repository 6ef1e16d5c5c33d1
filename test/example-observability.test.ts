import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('examples/observability', () => {
  it('prints one trace id for the publish and the process span, and exits 0', async () => {
    const env = { ...process.env };
    delete env.SWITCHYARD_URL;
    const { stdout } = await run(
      'npx',
      ['tsx', '--conditions=switchyard-source', 'examples/observability/main.ts'],
      { env, timeout: 60_000 },
    );
    expect(stdout).toContain('connected: memory (headers: native)');
    const publish = /publish span: send orders trace ([0-9a-f]{32})/.exec(stdout)?.[1];
    const processed = /process span: process orders trace ([0-9a-f]{32})/.exec(stdout)?.[1];
    expect(publish).toBeDefined();
    expect(processed).toBe(publish);
    expect(stdout).toContain(`handled order 42 (tenant acme) in trace ${publish}`);
    expect(stdout).toContain('one trace across the broker');
    // The console exporter printed the spans themselves.
    expect(stdout).toContain(`traceId: '${publish}'`);
  });
});
