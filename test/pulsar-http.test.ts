// The pulsar-http driver against the emulator's Tencent Cloud API: what the conformance suite does
// not cover — `###` payloads in batch receive, topology management off, credentials, proxies,
// rate limits.

import { inspect } from 'node:util';
import { type Broker, connect, type Logger, SwitchyardError } from '@switchyard/core';
import {
  CmqEngine,
  createProtocolServer,
  createTcApiHandler,
  Faults,
  type ParsedRequest,
  type ProtocolHandler,
  type ProtocolServer,
  systemClock,
} from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPulsarHttpEnv } from './pulsar-http-support.js';

const SECRET_ID = 'AKIDPULSARHTTPTEST';
const SECRET_KEY = 'sk-distinctive-4d7f1e9b2c';
const ROLE_TOKEN = 'role-token-distinctive-83jd0';

/**
 * The emulator's API handler on its own server, with a short ack timeout (startEmulator has no
 * knob for it) and an optional rate limiter in front (the emulator injects only InternalError).
 */
async function startApi() {
  const cmq = new CmqEngine({ clock: systemClock, recreateGuardSeconds: 0 });
  const api = createTcApiHandler({
    credentials: [{ secretId: SECRET_ID, secretKey: SECRET_KEY }],
    cmq,
    clock: systemClock,
    pulsar: { defaultAckTimeoutMs: 1_500, receiveWaitMs: 200 },
  });
  let limited = 0;
  let limitNext = 0;
  const handler: ProtocolHandler = {
    protocol: api.protocol,
    actionOf: (req) => api.actionOf(req),
    injectedError: (req, action) => api.injectedError(req, action),
    async handle(req: ParsedRequest) {
      if (api.actionOf(req) === 'SendMessages' && limitNext > 0) {
        limitNext--;
        limited++;
        return {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            Response: {
              Error: {
                Code: 'RequestLimitExceeded',
                Message:
                  'Your current request times equals to `1001` in a second, which exceeds the frequency limit `1000` for a second. Please reduce the frequency of calls.',
              },
              RequestId: `rl-${limited}`,
            },
          }),
        };
      }
      return api.handle(req);
    },
  };
  const server: ProtocolServer = await createProtocolServer(handler, {
    host: '127.0.0.1',
    port: 0,
    faults: new Faults({ rules: [] }),
    inspect: () => api.inspect(),
  });
  const host = `127.0.0.1:${server.port}`;
  return {
    api,
    limitedCount: () => limited,
    /** The next `n` SendMessages calls answer RequestLimitExceeded. */
    limit: (n: number) => {
      limitNext = n;
    },
    url: (query: Record<string, string> = {}, key = SECRET_KEY) =>
      `pulsar-http+http://${SECRET_ID}:${encodeURIComponent(key)}@${host}?${new URLSearchParams({ region: 'ap-guangzhou', cluster: 'pulsar-emulator', ...query })}`,
    async close() {
      await server.close();
      cmq.close();
    },
  };
}

function capturingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => {};
  return {
    warnings,
    debug: noop,
    info: noop,
    error: noop,
    warn: (_fields: unknown, message?: string) => warnings.push(String(message)),
  } as Logger & {
    warnings: string[];
  };
}

function rendered(error: unknown): string {
  return [String(error), (error as Error).stack, inspect(error, { depth: 10 }), JSON.stringify(error)].join(
    '\n',
  );
}

describe('pulsar-http: ### in batch receive', () => {
  let server: Awaited<ReturnType<typeof startApi>>;
  beforeAll(async () => {
    server = await startApi();
  });
  afterAll(() => server.close());

  it('raw mode: an ambiguous batch is never split wrongly; it comes back and is read one by one', async () => {
    const logger = capturingLogger();
    const broker = await connect({ driver: 'pulsar-http', ...configFor(server), logger });
    const consumer = await broker.consumer('hashes-raw', { group: 'g', prefetch: 50 });
    const producer = await broker.producer('hashes-raw');
    const bodies = ['plain-1', 'x###y', 'ends#', '#starts', '###', 'plain-2', 'a####b', 'plain-3'];
    await producer.send(bodies);
    const got = new Map<string, number>();
    const deadline = Date.now() + 15_000;
    while (got.size < bodies.length && Date.now() < deadline) {
      for (const m of await consumer.receive({ max: 50, waitMs: 500 })) {
        got.set(m.text(), (got.get(m.text()) ?? 0) + 1);
        await m.ack();
      }
    }
    // Every body arrives intact and nothing else (a wrong split would invent new bodies).
    expect([...got.keys()].sort()).toEqual([...bodies].sort());
    expect(logger.warnings.some((w) => w.includes('###'))).toBe(true);
    await broker.close();
  });

  it('envelope mode: bodies with # travel escaped, so batches always split', async () => {
    const logger = capturingLogger();
    const broker = await connect({ driver: 'pulsar-http', ...configFor(server), mode: 'envelope', logger });
    const consumer = await broker.consumer('hashes-env', { group: 'g', prefetch: 50 });
    const producer = await broker.producer('hashes-env');
    const bodies = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? `#${i}###${i}#` : `m-${i}`));
    await producer.send(bodies.map((body) => ({ body, headers: { 'x-h': '###' } })));
    const got: string[] = [];
    const deadline = Date.now() + 10_000;
    while (got.length < bodies.length && Date.now() < deadline) {
      for (const m of await consumer.receive({ max: 50, waitMs: 500 })) {
        expect(m.headers['x-h']).toBe('###');
        got.push(m.text());
        await m.ack();
      }
    }
    expect(got.sort()).toEqual([...bodies].sort());
    expect(logger.warnings.filter((w) => w.includes('###'))).toEqual([]);
    await broker.close();
  });
});

describe('pulsar-http: topology, credentials, proxies, rate limits', () => {
  let server: Awaited<ReturnType<typeof startApi>>;
  beforeAll(async () => {
    server = await startApi();
  });
  afterAll(() => server.close());

  it('with topology management off a missing topic is NOT_FOUND, for producers and consumers', async () => {
    const broker = await connect(server.url({ manageTopology: 'false' }));
    const producer = await broker.producer('never-created');
    await expect(producer.send('x')).rejects.toMatchObject({ code: 'NOT_FOUND', retryable: false });
    const consumer = await broker.consumer('never-created', { group: 'g' });
    await expect(consumer.receive({ waitMs: 2_000 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await broker.close();
  });

  it('with topology management on it creates a partitioned topic and the subscription', async () => {
    const broker = await connect(server.url({ partitions: '3' }));
    const consumer = await broker.consumer('made-for-me', { group: 'sub-1' });
    const topic = server.api.pulsar.topic('pulsar-emulator', 'default', 'made-for-me');
    expect(topic.partitioned).toBe(true);
    expect(topic.parts).toHaveLength(3);
    expect([...topic.subs.keys()]).toEqual(['sub-1']);
    await (await broker.producer('made-for-me')).send('hello');
    const [m] = await consumer.receive({ waitMs: 5_000 });
    expect(m?.text()).toBe('hello');
    await m?.ack();
    await broker.close();
  });

  it('bad credentials fail with UNAUTHENTICATED and no secret in any rendering of the error', async () => {
    const wrongKey = 'sk-wrong-key-distinctive-77aa';
    const broker = await connect(server.url({ token: ROLE_TOKEN }, wrongKey));
    const error = await broker.producer('auth-check').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SwitchyardError);
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', retryable: false, driver: 'pulsar-http' });
    const text = rendered(error);
    for (const secret of [wrongKey, SECRET_KEY, ROLE_TOKEN]) expect(text).not.toContain(secret);
    // The send path too (management off: the first request is the send itself).
    const plain = await connect(server.url({ token: ROLE_TOKEN, manageTopology: 'false' }, wrongKey));
    const sendError = await (await plain.producer('auth-check')).send('x').catch((e: unknown) => e);
    expect(sendError).toMatchObject({ code: 'UNAUTHENTICATED' });
    for (const secret of [wrongKey, ROLE_TOKEN]) expect(rendered(sendError)).not.toContain(secret);
    expect(inspect(broker)).not.toContain(wrongKey);
    await broker.close();
    await plain.close();
  });

  it('RequestLimitExceeded is retried with backoff and the send succeeds', async () => {
    const broker = await connect(server.url());
    const consumer = await broker.consumer('limited', { group: 'g' });
    const producer = await broker.producer('limited');
    const before = server.limitedCount();
    server.limit(3);
    await producer.send('after the limit');
    expect(server.limitedCount() - before).toBe(3);
    const [m] = await consumer.receive({ waitMs: 5_000 });
    expect(m?.text()).toBe('after the limit');
    await broker.close();
  });

  it('never goes through $http_proxy: the driver brings its own keep-alive agent', async () => {
    const saved = process.env.http_proxy;
    process.env.http_proxy = 'http://127.0.0.1:9'; // nothing listens there
    try {
      const broker = await connect(server.url());
      const consumer = await broker.consumer('no-proxy', { group: 'g' });
      await (await broker.producer('no-proxy')).send('direct');
      const [m] = await consumer.receive({ waitMs: 5_000 });
      expect(m?.text()).toBe('direct');
      await broker.close();
    } finally {
      if (saved === undefined) delete process.env.http_proxy;
      else process.env.http_proxy = saved;
    }
  });
});

describe('pulsar-http: startEmulator', () => {
  it('round-trips through the default emulator with the URL form', async () => {
    const env = await startPulsarHttpEnv();
    const broker: Broker = await connect(env.url({ mode: 'envelope' }));
    expect(broker.driver).toBe('pulsar-http');
    const consumer = await broker.consumer('plain', { group: 'g' });
    await (await broker.producer('plain')).send({ body: new Uint8Array([0, 255, 35, 35, 35]), key: 'k' });
    const [m] = await consumer.receive({ waitMs: 5_000 });
    expect(Buffer.from(m!.body)).toEqual(Buffer.from([0, 255, 35, 35, 35]));
    expect(m!.key).toBe('k');
    await broker.close();
    await env.close();
  });
});

function configFor(server: { url: (q?: Record<string, string>) => string }) {
  const url = new URL(server.url());
  return {
    region: 'ap-guangzhou',
    cluster: 'pulsar-emulator',
    endpoint: url.host,
    protocol: 'http' as const,
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    receiveWaitMs: 200,
  };
}
