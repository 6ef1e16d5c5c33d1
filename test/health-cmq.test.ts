// broker.health() on CMQ: the test runs an emulator of its own, stops it (its ports refuse
// connections, as a CMQ endpoint that went away does) and starts a new one on the same ports.
// Health turns down, then up again; each change is waited for by asking health() again.

import { type Broker, connect, type Health } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { emulatorConfig, startTestEmulator } from '../packages/cmq/test-kit/emulator.js';

let emulator: RunningEmulator | undefined;
let broker: Broker;
let ports: { cmqPort: number; apiPort: number };
beforeAll(async () => {
  emulator = await startTestEmulator();
  ports = {
    cmqPort: Number(new URL(emulator.endpoints.cmq).port),
    apiPort: Number(new URL(emulator.endpoints.api).port),
  };
  broker = await connect(emulatorConfig(emulator, { requestTimeoutMs: 2_000 }));
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

it('is down while the CMQ endpoint is gone and up once it answers again', { timeout: 120_000 }, async () => {
  expect(await broker.health()).toMatchObject({ status: 'up', details: { driver: 'cmq' } });
  await emulator!.stop();
  emulator = undefined;
  const down = await healthBecomes('down');
  expect(['UNAVAILABLE', 'TIMEOUT']).toContain(down.details.code);
  emulator = await startTestEmulator(ports);
  expect(await healthBecomes('up')).toMatchObject({ status: 'up', details: { driver: 'cmq' } });
});

it('is down when the endpoint answers but refuses the credentials', async () => {
  const wrong = await connect(emulatorConfig(emulator!, { secretKey: 'not-the-key' }));
  const health = await wrong.health();
  await wrong.close();
  expect(health).toMatchObject({ status: 'down', details: { code: 'UNAUTHENTICATED' } });
  expect(JSON.stringify(health)).not.toContain('not-the-key');
});
