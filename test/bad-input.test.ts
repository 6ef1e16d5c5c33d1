// Bad input across flavours, table-driven: every case must fail with a typed SwitchyardError whose
// code is the portable meaning and whose message names the problem (and, where there is one, the
// fix), without any secret in the error's text, stack, util.inspect or JSON.

import { inspect } from 'node:util';
import { type Broker, connect, isSwitchyardError } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SECRET = 'sentinel-secret-Q9x7Kw2Lm4';
const WRONG = 'wrong-secret-Z3v8Pq1Rn6';
const SECRET_ID = 'AKIDbadinputsentinel';

let emulator: RunningEmulator;
const brokers: Broker[] = [];
const open = async (target: Parameters<typeof connect>[0]) => {
  const broker = await connect(target);
  brokers.push(broker);
  return broker;
};

beforeAll(async () => {
  emulator = await startEmulator({
    credentials: [{ secretId: SECRET_ID, secretKey: SECRET }],
    cmq: { recreateGuardSeconds: 0 },
    rocketmq: { autoCreate: false },
  });
  emulator.engines.cmq.createQueue('badinput-queue');
  emulator.engines.rocketmq.createTopic('badinput|ns%exists', { type: 'MIXED' });
});

afterAll(async () => {
  await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 2_000 })));
  await emulator.stop();
});

const cmq = (extra: Record<string, unknown> = {}) => ({
  driver: 'cmq',
  endpoint: emulator.endpoints.cmq,
  managementEndpoint: emulator.endpoints.api,
  region: 'ap-guangzhou',
  secretId: SECRET_ID,
  secretKey: SECRET,
  ...extra,
});
const pulsarHttp = (extra: Record<string, unknown> = {}) => ({
  driver: 'pulsar-http',
  endpoint: new URL(emulator.endpoints.api).host,
  protocol: 'http',
  region: 'ap-guangzhou',
  cluster: 'pulsar-emulator',
  secretId: SECRET_ID,
  secretKey: SECRET,
  ...extra,
});
const rocketmq = (extra: Record<string, unknown> = {}) => ({
  driver: 'rocketmq',
  endpoints: emulator.endpoints.rocketmq,
  cluster: 'badinput',
  namespace: 'ns',
  accessKey: SECRET_ID,
  secretKey: SECRET,
  startupTimeoutMs: 5_000,
  ...extra,
});
const rabbit = 'amqp://guest:guest@127.0.0.1:5672';
const memory = () => `memory://bad-input-${process.pid}`;
const body = (n: number) => 'x'.repeat(n);

interface Case {
  readonly name: string;
  readonly run: () => Promise<unknown>;
  readonly code: string;
  /** What the message must say: the problem and, where there is one, the fix. */
  readonly says: RegExp;
}

const cases: Case[] = [
  // --- URLs and configs (core) ---
  {
    name: 'a string that is not a URL',
    run: () => connect('not a url'),
    code: 'CONFIG',
    says: /not a valid broker URL.*memory:\/\//,
  },
  {
    name: 'a URL scheme no driver serves',
    run: () => connect('ftp://host'),
    code: 'CONFIG',
    says: /no driver for URL scheme "ftp:"; use one of/,
  },
  {
    name: 'an unknown driver name',
    run: () => connect({ driver: 'kafka' }),
    code: 'CONFIG',
    says: /unknown driver "kafka"; known drivers: memory/,
  },
  {
    name: 'a config without a driver',
    run: () => connect({} as never),
    code: 'CONFIG',
    says: /config\.driver is required/,
  },
  {
    name: 'a number instead of a config',
    run: () => connect(42 as never),
    code: 'CONFIG',
    says: /URL string or a config object/,
  },
  {
    name: 'a missing driver package (native Pulsar)',
    run: () => connect('pulsar://localhost:6650'),
    code: 'CONFIG',
    says: /install it with: npm install @switchyard\/pulsar/,
  },
  {
    name: 'a missing driver package (pulsar+ssl)',
    run: () => connect('pulsar+ssl://localhost:6651'),
    code: 'CONFIG',
    says: /npm install @switchyard\/pulsar/,
  },
  {
    name: 'a non-numeric URL option',
    run: () => connect(`${memory()}?retention=abc`),
    code: 'CONFIG',
    says: /retention: must be a whole number/,
  },
  {
    name: 'an unknown config field',
    run: () => connect({ driver: 'memory', bogus: 1 }),
    code: 'CONFIG',
    says: /bogus/,
  },
  {
    name: 'a negative config number',
    run: () => connect({ driver: 'memory', retention: -1 }),
    code: 'CONFIG',
    says: /config\.retention/,
  },
  {
    name: 'a logger without methods',
    run: () => connect({ driver: 'memory', logger: {} }),
    code: 'CONFIG',
    says: /logger with debug, info, warn and error/,
  },
  // --- consumer and producer options ---
  {
    name: 'prefetch 0',
    run: async () => (await open(memory())).consumer('t', { prefetch: 0 }),
    code: 'INVALID_ARGUMENT',
    says: /prefetch/,
  },
  {
    name: 'maxDeliveries without deadLetter',
    run: async () => (await open(memory())).consumer('t', { maxDeliveries: 3 }),
    code: 'INVALID_ARGUMENT',
    says: /maxDeliveries needs deadLetter/,
  },
  {
    name: 'a visibility timeout under 100 ms',
    run: async () => (await open(memory())).consumer('t', { visibilityTimeoutMs: 10 }),
    code: 'INVALID_ARGUMENT',
    says: /visibilityTimeoutMs/,
  },
  {
    name: 'an empty group',
    run: async () => (await open(memory())).consumer('t', { group: '' }),
    code: 'INVALID_ARGUMENT',
    says: /group: must not be empty/,
  },
  {
    name: 'an unknown consumer option',
    run: async () => (await open(memory())).consumer('t', { prefech: 3 } as never),
    code: 'INVALID_ARGUMENT',
    says: /prefech/,
  },
  {
    name: 'an empty source name',
    run: async () => (await open(memory())).consumer(''),
    code: 'INVALID_ARGUMENT',
    says: /source: must not be empty/,
  },
  {
    name: 'a destination with a control character',
    run: async () => (await open(memory())).producer('bad\nname'),
    code: 'INVALID_ARGUMENT',
    says: /control characters/,
  },
  {
    name: 'maxInFlight 0',
    run: async () => (await open(memory())).producer('t', { maxInFlight: 0 }),
    code: 'INVALID_ARGUMENT',
    says: /maxInFlight/,
  },
  // --- messages (portable validation) ---
  {
    name: 'a non-string header',
    run: async () =>
      (await (await open(memory())).producer('t')).send({ body: 'x', headers: { n: 1 as never } }),
    code: 'INVALID_ARGUMENT',
    says: /headers\["n"\] must be a string.*String\(\)/,
  },
  {
    name: 'a negative delay',
    run: async () => (await (await open(memory())).producer('t')).send({ body: 'x', delayMs: -1 }),
    code: 'INVALID_ARGUMENT',
    says: /delayMs must be a whole number/,
  },
  {
    name: 'a missing body',
    run: async () => (await (await open(memory())).producer('t')).send({ body: undefined as never }),
    code: 'INVALID_ARGUMENT',
    says: /body is missing/,
  },
  {
    name: 'a body that is not JSON-serialisable',
    run: async () => (await (await open(memory())).producer('t')).send({ body: { n: 1n } as never }),
    code: 'INVALID_ARGUMENT',
    says: /not JSON-serialisable/,
  },
  {
    name: 'a Float32Array body',
    run: async () =>
      (await (await open(memory())).producer('t')).send({ body: new Float32Array(2) as never }),
    code: 'INVALID_ARGUMENT',
    says: /Uint8Array\/Buffer.*new Uint8Array/,
  },
  {
    name: 'tags that are not an array',
    run: async () => (await (await open(memory())).producer('t')).send({ body: 'x', tags: 'a' as never }),
    code: 'INVALID_ARGUMENT',
    says: /tags must be an array/,
  },
  {
    name: 'more tags than the flavour carries',
    run: async () =>
      (await (await open(memory())).producer('t')).send({
        body: 'x',
        tags: Array.from({ length: 17 }, (_, i) => `t${i}`),
      }),
    code: 'INVALID_ARGUMENT',
    says: /at most 16 per message/,
  },
  {
    name: 'an empty ordering key',
    run: async () => (await (await open(memory())).producer('t')).send({ body: 'x', orderingKey: '' }),
    code: 'INVALID_ARGUMENT',
    says: /orderingKey must be a non-empty string/,
  },
  {
    name: 'an over-long message id',
    run: async () => (await (await open(memory())).producer('t')).send({ body: 'x', id: 'i'.repeat(300) }),
    code: 'INVALID_ARGUMENT',
    says: /id must be at most 256/,
  },
  {
    name: 'a header with a lone surrogate',
    run: async () =>
      (await (await open(memory())).producer('t')).send({ body: 'x', headers: { h: '\ud800' } }),
    code: 'INVALID_ARGUMENT',
    says: /well-formed Unicode/,
  },
  {
    name: 'a body over the memory limit',
    run: async () => (await (await open(memory())).producer('t')).send(body(16 * 1024 * 1024 + 1)),
    code: 'MESSAGE_TOO_LARGE',
    says: /accepts at most 16777216 bytes.*reference/,
  },
  // --- RabbitMQ (the real broker) ---
  {
    name: 'RabbitMQ: wrong password',
    run: () => connect(`amqp://guest:${WRONG}@127.0.0.1:5672`),
    code: 'UNAUTHENTICATED',
    says: /guest|credentials|password|refused/i,
  },
  {
    name: 'RabbitMQ: nothing listening on the port',
    run: () =>
      connect({
        driver: 'rabbitmq',
        host: '127.0.0.1',
        port: 1,
        username: 'guest',
        password: SECRET,
        connectTimeoutMs: 2_000,
      }),
    code: 'UNAVAILABLE',
    says: /cannot be reached/,
  },
  {
    name: 'RabbitMQ: a vhost that does not exist',
    run: () => connect(`${rabbit}/no-such-vhost-${process.pid}`),
    code: 'NOT_FOUND',
    says: /no-such-vhost/,
  },
  {
    name: 'RabbitMQ: an unknown exchange type',
    run: () => connect({ driver: 'rabbitmq', exchangeType: 'weird' }),
    code: 'CONFIG',
    says: /exchangeType/,
  },
  {
    name: 'RabbitMQ: a port that is not a number',
    run: () => connect('amqp://guest:guest@127.0.0.1:notaport'),
    code: 'CONFIG',
    says: /URL|port/i,
  },
  {
    name: 'RabbitMQ: TLS to the plain listener',
    run: () =>
      connect({
        driver: 'rabbitmq',
        protocol: 'amqps',
        host: '127.0.0.1',
        port: 5672,
        username: 'guest',
        password: SECRET,
        connectTimeoutMs: 3_000,
      }),
    code: 'UNAVAILABLE',
    says: /TLS|handshake|reached/,
  },
  {
    name: 'RabbitMQ: a body over the limit',
    run: async () =>
      (
        await (await open({ driver: 'rabbitmq', maxMessageBytes: 1024 })).producer(`bad-input-${process.pid}`)
      ).send(body(1025)),
    code: 'MESSAGE_TOO_LARGE',
    says: /at most 1024 bytes/,
  },
  {
    name: 'RabbitMQ: a routing pattern on a direct exchange',
    run: async () =>
      (await open({ driver: 'rabbitmq', exchangeType: 'direct' })).consumer(
        `bad-input-direct-${process.pid}`,
        { filter: { routingKeys: ['a.*'] } },
      ),
    code: 'UNSUPPORTED',
    says: /direct/,
  },
  {
    name: 'RabbitMQ: tags (AMQP has none)',
    run: async () =>
      (await (await open(rabbit)).producer(`bad-input-${process.pid}`)).send({ body: 'x', tags: ['a'] }),
    code: 'UNSUPPORTED',
    says: /Message tags is not supported by the rabbitmq driver/,
  },
  // --- CMQ (emulator) ---
  {
    name: 'CMQ: wrong SecretKey',
    run: async () => (await (await open(cmq({ secretKey: WRONG }))).producer('badinput-queue')).send('x'),
    code: 'UNAUTHENTICATED',
    says: /SecretId|signature|credential/i,
  },
  {
    name: 'CMQ: a queue name starting with a digit',
    run: async () => (await (await open(cmq())).producer('1queue')).send('x'),
    code: 'INVALID_ARGUMENT',
    says: /letter first/,
  },
  {
    name: 'CMQ: a 65-character name',
    run: async () => (await (await open(cmq())).producer(`q${'x'.repeat(64)}`)).send('x'),
    code: 'INVALID_ARGUMENT',
    says: /64/,
  },
  {
    name: 'CMQ raw mode: a non-UTF-8 body',
    run: async () =>
      (await (await open(cmq())).producer('badinput-queue')).send(new Uint8Array([0xff, 0xfe])),
    code: 'INVALID_ARGUMENT',
    says: /not UTF-8 text/,
  },
  {
    name: 'CMQ raw mode: a message key',
    run: async () => (await (await open(cmq())).producer('badinput-queue')).send({ body: 'x', key: 'k' }),
    code: 'UNSUPPORTED',
    says: /envelope/,
  },
  {
    name: 'CMQ: a body over 64 KiB',
    run: async () => (await (await open(cmq())).producer('badinput-queue')).send(body(65_537)),
    code: 'MESSAGE_TOO_LARGE',
    says: /65536/,
  },
  {
    name: 'CMQ: nothing listening on the endpoint',
    run: async () =>
      (
        await (
          await open(cmq({ endpoint: 'http://127.0.0.1:1' }))
        ).producer('badinput-queue', { retry: { maxAttempts: 1 } })
      ).send('x'),
    code: 'UNAVAILABLE',
    says: /127\.0\.0\.1:1|reach|connect/i,
  },
  {
    name: 'CMQ: a region that is not one',
    run: () => connect(cmq({ region: 'Guangzhou!' })),
    code: 'CONFIG',
    says: /region/,
  },
  {
    name: 'CMQ: an unknown body mode',
    run: () => connect(cmq({ bodyMode: 'xml' })),
    code: 'CONFIG',
    says: /bodyMode/,
  },
  {
    name: 'CMQ: a queue that does not exist',
    run: async () => (await (await open(cmq())).producer('nosuchqueue')).send('x'),
    code: 'NOT_FOUND',
    says: /nosuchqueue/,
  },
  // --- Pulsar over HTTP (emulator) ---
  {
    name: 'Pulsar HTTP: wrong SecretKey',
    run: async () =>
      (await (await open(pulsarHttp({ secretKey: WRONG }))).producer('badinput-topic')).send('x'),
    code: 'UNAUTHENTICATED',
    says: /Auth|signature|SecretKey/i,
  },
  {
    name: 'Pulsar HTTP raw mode: a non-UTF-8 body',
    run: async () =>
      (await (await open(pulsarHttp())).producer('badinput-topic')).send(new Uint8Array([0xff])),
    code: 'INVALID_ARGUMENT',
    says: /not UTF-8 text/,
  },
  {
    name: 'Pulsar HTTP: a body over 1 MiB',
    run: async () =>
      (await (await open(pulsarHttp())).producer('badinput-topic')).send(body(1024 * 1024 + 1)),
    code: 'MESSAGE_TOO_LARGE',
    says: /1048576/,
  },
  {
    name: 'Pulsar HTTP: a delayed send (the API has none)',
    run: async () =>
      (await (await open(pulsarHttp())).producer('badinput-topic')).send({ body: 'x', delayMs: 1_000 }),
    code: 'UNSUPPORTED',
    says: /Delay on send.*pulsar-http/,
  },
  {
    name: 'Pulsar HTTP: no region',
    run: () => connect(pulsarHttp({ region: undefined })),
    code: 'CONFIG',
    says: /region/,
  },
  {
    name: 'Pulsar HTTP: a topic that does not exist, management off',
    run: async () =>
      (await (await open(pulsarHttp({ manageTopology: false }))).producer('nosuch-topic')).send('x'),
    code: 'NOT_FOUND',
    says: /nosuch-topic/,
  },
  // --- RocketMQ (emulator) ---
  {
    name: 'RocketMQ: wrong secret key (role name)',
    // connect() opens no client yet: credentials are checked when a producer or consumer starts.
    run: async () => (await open(rocketmq({ secretKey: WRONG }))).producer('exists'),
    code: 'UNAUTHENTICATED',
    says: /role|token|secretKey|accessKey/i,
  },
  {
    name: 'RocketMQ: a topic that does not exist',
    run: async () => (await (await open(rocketmq())).producer('nosuch')).send('x'),
    code: 'NOT_FOUND',
    says: /nosuch/,
  },
  {
    name: 'RocketMQ: two tags (RocketMQ carries one)',
    run: async () =>
      (await (await open(rocketmq())).producer('exists')).send({ body: 'x', tags: ['a', 'b'] }),
    code: 'INVALID_ARGUMENT',
    says: /at most 1 per message/,
  },
  {
    name: 'RocketMQ: a routing key',
    run: async () =>
      (await (await open(rocketmq())).producer('exists')).send({ body: 'x', routingKey: 'a.b' }),
    code: 'UNSUPPORTED',
    says: /Routing keys is not supported by the rocketmq driver/,
  },
  {
    name: 'RocketMQ: no endpoints',
    run: () => connect(rocketmq({ endpoints: undefined })),
    code: 'CONFIG',
    says: /endpoints/,
  },
  {
    name: 'RocketMQ: a role name without a token',
    run: () => connect(rocketmq({ accessKey: undefined })),
    code: 'CONFIG',
    says: /needs an accessKey \(role token\)/,
  },
  // --- closed objects ---
  {
    name: 'a producer from a closed broker',
    run: async () => {
      const b = await connect(memory());
      await b.close();
      return b.producer('t');
    },
    code: 'CLOSED',
    says: /broker is closed/,
  },
  {
    name: 'a consumer from a closed broker',
    run: async () => {
      const b = await connect(memory());
      await b.close();
      return b.consumer('t');
    },
    code: 'CLOSED',
    says: /broker is closed/,
  },
  {
    name: 'a send on a closed producer',
    run: async () => {
      const p = await (await open(memory())).producer('t');
      await p.close();
      return p.send('x');
    },
    code: 'CLOSED',
    says: /producer for "t" is closed/,
  },
  {
    name: 'a receive on a closed consumer',
    run: async () => {
      const c = await (await open(memory())).consumer('t');
      await c.close();
      return c.receive();
    },
    code: 'CLOSED',
    says: /consumer of "t" \(group "default"\) is closed/,
  },
  {
    name: 'a closed RabbitMQ broker',
    run: async () => {
      const b = await connect(rabbit);
      await b.close();
      return b.producer('t');
    },
    code: 'CLOSED',
    says: /rabbitmq broker is closed/,
  },
];

describe('bad input', () => {
  it('has at least 60 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const error = await c.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'it must fail').toBeDefined();
    expect(isSwitchyardError(error), `typed error, got ${String(error)}`).toBe(true);
    const e = error as Error & { code: string };
    expect(e.code).toBe(c.code);
    expect(e.message).toMatch(c.says);
    const rendered = [e.message, String(e), e.stack ?? '', inspect(e, { depth: 8 }), JSON.stringify(e)].join(
      '\n',
    );
    expect(rendered).not.toContain(SECRET);
    expect(rendered).not.toContain(WRONG);
  });

  it('a batch with one bad message sends nothing', async () => {
    const broker = await open(memory());
    const consumer = await broker.consumer('half-way');
    const producer = await broker.producer('half-way');
    await expect(
      producer.send([{ body: 'fine' }, { body: 'bad', headers: { n: 2 as never } }]),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await consumer.receive({ waitMs: 200 })).toEqual([]);
  });
});

describe('failed connects leak nothing', () => {
  it('a process whose connects all fail exits by itself', async () => {
    const { execFile } = await import('node:child_process');
    const started = Date.now();
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        'npx',
        ['tsx', '--conditions=switchyard-source', 'test/fixtures/failed-connects.ts'],
        { timeout: 45_000 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      );
    });
    expect(output).toContain('done: 6/6 failed');
    expect(Date.now() - started).toBeLessThan(45_000);
  });
});
