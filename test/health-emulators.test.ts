// broker.health() on the emulator-backed flavours: each test runs an emulator of its own,
// stops it (its ports refuse connections, as an endpoint that went away does) and starts a new one
// on the same ports. Health turns down, then up again; each change is waited for by asking again.
// Wrong credentials are down too: the endpoint answers, but the service cannot use it. RocketMQ
// here is the 4.x Remoting transport, whose probe is a route lookup at the name server.

import { type BrokerConfig, connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import '@switchyard/pulsar-http';
import { afterEach, describe, expect, it } from 'vitest';
import { emulatorConfig, TEST_SECRET_ID } from '../packages/cmq/test-kit/emulator.js';
import '@switchyard/rocketmq';
import { TEST_ROLE, TEST_TOKEN } from '../packages/rocketmq/test-kit/emulator.js';
import { remotingConfig } from '../packages/rocketmq/test-kit/remoting.js';
import { healthBecomes } from './health-support.js';

const SECRET_KEY = 'sk-health-test-9c1d';
const credentials = [
  { secretId: TEST_SECRET_ID, secretKey: SECRET_KEY },
  { secretId: TEST_TOKEN, secretKey: TEST_ROLE },
];

const flavours: Array<{
  name: string;
  config: (emulator: RunningEmulator, secretKey: string) => BrokerConfig;
  /** The probe's request is signed and checked (a 4.x name server answers route lookups to anyone). */
  checksCredentials: boolean;
}> = [
  {
    name: 'cmq',
    config: (emulator, secretKey) => emulatorConfig(emulator, { secretKey, requestTimeoutMs: 2_000 }),
    checksCredentials: true,
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
    checksCredentials: true,
  },
  {
    name: 'rocketmq',
    config: (emulator) => remotingConfig(emulator, { requestTimeoutMs: 1_000 }),
    checksCredentials: false,
  },
];

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

describe.each(flavours)('health on $name', ({ name, config, checksCredentials }) => {
  it('is down while the endpoint is gone and up once it answers again', { timeout: 120_000 }, async () => {
    emulator = await startEmulator({ credentials, remotingPort: 0 });
    const ports = {
      cmqPort: Number(new URL(emulator.endpoints.cmq).port),
      apiPort: Number(new URL(emulator.endpoints.api).port),
      remotingPort: Number(emulator.endpoints.remoting.split(':').at(-1)),
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

  it.runIf(checksCredentials)('is down when the endpoint refuses the credentials', async () => {
    emulator = await startEmulator({ credentials });
    const wrong = await connect(config(emulator, 'not-the-key'));
    const health = await wrong.health();
    await wrong.close();
    expect(health).toMatchObject({ status: 'down', details: { code: 'UNAUTHENTICATED' } });
    expect(JSON.stringify(health)).not.toContain('not-the-key');
  });
});
