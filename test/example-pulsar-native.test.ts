import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

async function example(url: string | undefined): Promise<string> {
  const env = { ...process.env };
  delete env.SWITCHYARD_URL;
  if (url === undefined) delete env.SWITCHYARD_PULSAR_URL;
  else env.SWITCHYARD_PULSAR_URL = url;
  const { stdout } = await run(
    'npx',
    ['tsx', '--conditions=switchyard-source', 'examples/pulsar-native/main.ts'],
    {
      env,
      timeout: 60_000,
    },
  );
  return stdout;
}

// pulsar-client (a native addon) cannot be installed on these machines: the example must say how
// to get it and exit 0 rather than crash. With pulsar-client and a Pulsar it runs for real.
describe('examples/pulsar-native', () => {
  it('without SWITCHYARD_PULSAR_URL, prints how to run it and exits 0', { timeout: 60_000 }, async () => {
    const stdout = await example(undefined);
    expect(stdout).toContain('SWITCHYARD_PULSAR_URL is not set');
    expect(stdout).toContain('apachepulsar/pulsar bin/pulsar standalone');
  });

  it.skipIf(isInstalled())(
    'without pulsar-client, says what to install and exits 0',
    { timeout: 60_000 },
    async () => {
      const stdout = await example('pulsar://127.0.0.1:6650');
      expect(stdout).toContain('pulsar-client is not installed');
      expect(stdout).toContain('npm install pulsar-client');
      expect(stdout).toContain('libpulsar');
      expect(stdout).not.toContain('connected:');
    },
  );
});

function isInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pulsar-client');
    return true;
  } catch {
    return false;
  }
}
