// broker.health() on TDMQ Pulsar over HTTP: the test's own emulator is stopped (its API port
// refuses connections) and a new one started on the same port. Health turns down, then up again;
// each change is waited for by asking health() again.

import { type Broker, connect, type Health } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import '@switchyard/pulsar-http';
import { afterAll, beforeAll, expect, it } from 'vitest';

const credentials = [{ secretId: 'AKIDHEALTHTEST', secretKey: 'sk-health-test-9c1d' }];
let emulator: RunningEmulator | undefined;
let broker: Broker;
let apiPort: number;
beforeAll(async () => {
  emulator = await startEmulator({ credentials });
  const host = new URL(emulator.endpoints.api).host;
  apiPort = Number(new URL(emulator.endpoints.api).port);
  broker = await connect({
    driver: 'pulsar-http',
    region: 'ap-guangzhou',
    cluster: 'pulsar-emulator',
    endpoint: host,
    protocol: 'http',
    ...credentials[0],
  });
});
afterAll(async () => {
  await broker?.close({ timeoutMs: 2_000 });
  await emulator?.stop();
});

async function healthBecomes(status: Health['status']): Promise<Health> {
  for (;;) {
    const health = await broker.health({ timeoutMs: 3_000 });
    if (health.status === status) return health;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('is down while the API endpoint is gone and up once it answers again', { timeout: 120_000 }, async () => {
  expect(await broker.health()).toMatchObject({ status: 'up', details: { driver: 'pulsar-http' } });
  await emulator!.stop();
  emulator = undefined;
  const down = await healthBecomes('down');
  expect(['UNAVAILABLE', 'TIMEOUT']).toContain(down.details.code);
  expect(JSON.stringify(down)).not.toContain(credentials[0]!.secretKey);
  emulator = await startEmulator({ credentials, apiPort });
  expect(await healthBecomes('up')).toMatchObject({ status: 'up' });
});
