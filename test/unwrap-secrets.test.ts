// The escape hatches hand out native clients: `broker.unwrap()`, `producer.unwrap()`,
// `consumer.unwrap()` and a message's `unwrap()`. A service that logs one of them (console.log,
// util.inspect, a debugger's view, JSON) must not print a credential. Every credential here is a
// sentinel (sentinelLeakCheck), and each driver that runs on this machine is opened by config
// object and by URL: memory, RabbitMQ (the real broker, a user of this file's own), and CMQ, Pulsar
// over HTTP and RocketMQ on the emulator.

import { inspect } from 'node:util';
import { sentinelLeakCheck } from '@switchyard/conformance';
import { type Broker, connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestVhost, rabbitmqctl, type TestVhost } from './rabbitmq-helpers.js';

const leaks = sentinelLeakCheck('unwrap() objects');
const SECRET = leaks.sentinel.value;
const ROCKET_TOKEN = leaks.sentinel.another('rocketmq-role-token');
const PULSAR_ROLE_TOKEN = leaks.sentinel.another('pulsar-role-token');
const SESSION_TOKEN = leaks.sentinel.another('session-token');
const SECRET_ID = 'AKIDunwrapsentinel';
const enc = encodeURIComponent;
const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;

let emulator: RunningEmulator;
let rabbitUser: TestVhost;

beforeAll(async () => {
  emulator = await startEmulator({
    credentials: [
      { secretId: SECRET_ID, secretKey: SECRET },
      { secretId: ROCKET_TOKEN, secretKey: SECRET },
    ],
    cmq: { recreateGuardSeconds: 0 },
  });
  emulator.engines.cmq.createQueue(`unwrap-${run}`);
  rabbitUser = await createTestVhost('unwrap');
  await rabbitmqctl('change_password', rabbitUser.user, SECRET).catch((error: unknown) => {
    throw new Error(leaks.sentinel.mask(String((error as Error).message)));
  });
});

afterAll(async () => {
  await emulator?.stop();
  await rabbitUser?.cleanup();
});

interface Target {
  readonly name: string;
  readonly open: () => Promise<Broker>;
  /** Where a message can be sent and read back. */
  readonly destination: () => string;
}

const api = () => new URL(emulator.endpoints.api).host;
const targets: Target[] = [
  { name: 'memory', open: () => connect(`memory://unwrap-${run}`), destination: () => 'q' },
  {
    name: 'rabbitmq, config object',
    open: () =>
      connect({
        driver: 'rabbitmq',
        host: '127.0.0.1',
        username: rabbitUser.user,
        password: SECRET,
        vhost: rabbitUser.vhost,
        logger: leaks.logger,
      }),
    destination: () => `unwrap-${run}`,
  },
  {
    name: 'rabbitmq, URL',
    open: () =>
      connect(`amqp://${enc(rabbitUser.user)}:${enc(SECRET)}@127.0.0.1:5672/${enc(rabbitUser.vhost)}`, {
        logger: leaks.logger,
      }),
    destination: () => `unwrap-url-${run}`,
  },
  {
    name: 'cmq, URL',
    open: () =>
      connect(
        `cmq+http://${SECRET_ID}:${enc(SECRET)}@${new URL(emulator.endpoints.cmq).host}?region=ap-guangzhou&managementEndpoint=${enc(emulator.endpoints.api)}`,
        { logger: leaks.logger },
      ),
    destination: () => `unwrap-${run}`,
  },
  {
    name: 'pulsar-http, config object with role and session tokens',
    open: () =>
      connect({
        driver: 'pulsar-http',
        endpoint: api(),
        protocol: 'http',
        region: 'ap-guangzhou',
        cluster: 'pulsar-emulator',
        secretId: SECRET_ID,
        secretKey: SECRET,
        token: PULSAR_ROLE_TOKEN,
        sessionToken: SESSION_TOKEN,
        logger: leaks.logger,
      }),
    destination: () => `unwrap-${run}`,
  },
  {
    name: 'pulsar-http, URL',
    open: () =>
      connect(
        `pulsar-http+http://${SECRET_ID}:${enc(SECRET)}@${api()}?region=ap-guangzhou&cluster=pulsar-emulator&token=${enc(PULSAR_ROLE_TOKEN)}`,
        { logger: leaks.logger },
      ),
    destination: () => `unwrap-url-${run}`,
  },
  {
    name: 'rocketmq, URL',
    open: () =>
      connect(
        `rocketmq://${enc(ROCKET_TOKEN)}:${enc(SECRET)}@${emulator.endpoints.rocketmq}?cluster=unwrap&namespace=ns`,
        { logger: leaks.logger },
      ),
    destination: () => `unwrap-${run}`,
  },
];

describe('unwrap() objects hold no printable credential', () => {
  it.each(targets.map((t) => [t.name, t] as const))('%s', async (_name, target) => {
    const broker = leaks.watch(await target.open());
    try {
      const destination = target.destination();
      const consumer = await broker.consumer(destination, { group: `unwrap-${run}` });
      const producer = await broker.producer(destination);
      await producer.send('unwrap me');
      const [message] = await consumer.receive({ max: 1, waitMs: 20_000 });
      expect(message?.text()).toBe('unwrap me');
      const before = leaks.findings.length;
      leaks.native(broker.unwrap(), 'broker.unwrap()');
      leaks.native(producer.unwrap(), 'producer.unwrap()');
      leaks.native(consumer.unwrap(), 'consumer.unwrap()');
      leaks.native(message!.unwrap(), 'message.unwrap()');
      // The native object is not a stub: it prints as something (a client, a channel, a store).
      expect(inspect(broker.unwrap()).length).toBeGreaterThan(10);
      await message!.ack();
      expect(leaks.findings.slice(before), 'sentinel found').toEqual([]);
    } finally {
      await broker.close({ timeoutMs: 5_000 });
    }
  });
});
