// broker.health() on the emulator-backed HTTP flavours: each test runs an emulator of its own,
// stops it (its ports refuse connections, as an endpoint that went away does) and starts a new one
// on the same ports. Health turns down, then up again; each change is waited for by asking again.
// Wrong credentials are down too: the endpoint answers, but the service cannot use it.

import { type BrokerConfig, connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import '@switchyard/pulsar-http';
import { afterEach, describe, expect, it } from 'vitest';
import { emulatorConfig, TEST_SECRET_ID } from '../packages/cmq/test-kit/emulator.js';
import { healthBecomes } from './health-support.js';

const SECRET_KEY = 'sk-health-test-9c1d';
const credentials = [{ secretId: TEST_SECRET_ID, secretKey: SECRET_KEY }];

const flavours: Array<{
  name: string;
  config: (emulator: RunningEmulator, secretKey: string) => BrokerConfig;
}> = [
  {
    name: 'cmq',
    config: (emulator, secretKey) => emulatorConfig(emulator, { secretKey, requestTimeoutMs: 2_000 }),
  },
  {
    name: 'pulsar-http',
    config: (emulator, secretKey) => ({
      driver: 'pulsar-http',
      region: 'ap-guangzhou',
      cluster: 'pulsar-emulator',
      endpoint: new URL(emulator.endpoints.api).host,
      protocol: 'http',
      secretId: TEST_SECRET_ID,
      secretKey,
    }),
  },
];

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

describe.each(flavours)('health on $name', ({ name, config }) => {
  it('is down while the endpoint is gone and up once it answers again', { timeout: 120_000 }, async () => {
    emulator = await startEmulator({ credentials, cmq: { recreateGuardSeconds: 0 } });
    const ports = {
      cmqPort: Number(new URL(emulator.endpoints.cmq).port),
      apiPort: Number(new URL(emulator.endpoints.api).port),
    };
    const broker = await connect(config(emulator, SECRET_KEY));
    try {
      expect(await broker.health()).toMatchObject({ status: 'up', details: { driver: name } });
      await emulator.stop();
      emulator = undefined;
      const down = await healthBecomes(broker, 'down');
      expect(['UNAVAILABLE', 'TIMEOUT']).toContain(down.details.code);
      expect(JSON.stringify(down)).not.toContain(SECRET_KEY);
      emulator = await startEmulator({ credentials, ...ports });
      expect(await healthBecomes(broker, 'up')).toMatchObject({ status: 'up', details: { driver: name } });
    } finally {
      await broker.close({ timeoutMs: 2_000 });
    }
  });

  it('is down when the endpoint refuses the credentials', async () => {
    emulator = await startEmulator({ credentials });
    const wrong = await connect(config(emulator, 'not-the-key'));
    const health = await wrong.health();
    await wrong.close();
    expect(health).toMatchObject({ status: 'down', details: { code: 'UNAUTHENTICATED' } });
    expect(JSON.stringify(health)).not.toContain('not-the-key');
  });
});
