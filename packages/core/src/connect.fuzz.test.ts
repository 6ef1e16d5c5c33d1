// Fuzz of broker URL and config-object parsing for every scheme and driver connect() knows
// (issue 9): connect()'s own checks (unparsable URL, unknown scheme) and then exactly what connect()
// runs before creating a driver — `loadDriver(name).fromUrl(url)` / `.parseConfig(object)` — so no
// broker is contacted. Every outcome is a config or a SwitchyardError with code CONFIG and a
// message; never another exception, never a hang; a password given in the URL never shows in the
// error. 10,000 runs per property, fixed seeds; SWITCHYARD_FUZZ_RUNS / SWITCHYARD_FUZZ_SEED locally.

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { connect } from './connect.js';
import { isSwitchyardError } from './errors.js';
import { driverForScheme, loadDriver } from './registry.js';

const RUNS = Math.max(10_000, Number(process.env.SWITCHYARD_FUZZ_RUNS) || 0);
const fuzz = (seed: number) => ({ numRuns: RUNS, seed: Number(process.env.SWITCHYARD_FUZZ_SEED) || seed });
const TIMEOUT = (90_000 * RUNS) / 10_000;

const MARK = 'Qv7SECRETpw';
const SCHEMES = [
  'memory',
  'amqp',
  'amqps',
  'cmq+http',
  'cmq+https',
  'rocketmq',
  'rocketmq+tls',
  'pulsar-http+http',
  'pulsar-http+https',
  'pulsar',
  'pulsar+ssl',
];
const DRIVERS = ['memory', 'rabbitmq', 'cmq', 'rocketmq', 'pulsar-http', 'pulsar'];

const token = fc.string({ unit: fc.constantFrom(..."aZ09-._~!$&'()*+,;=:@/?#[]% é"), maxLength: 10 });
const password = fc.oneof(
  token.map((s) => encodeURIComponent(MARK + s)),
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=-]{0,8}$/).map((s) => MARK + s),
  fc.constantFrom('%', '%Z', '%ZZ', '%E0%A4%A', '%C3').map((bad) => MARK + bad),
);
const QUERY_KEYS = [
  'region',
  'cluster',
  'namespace',
  'name',
  'vhost',
  'heartbeat',
  'topicType',
  'mode',
  'token',
  'tlsAllowInsecure',
  'operationTimeoutMs',
  'signatureMethod',
  'bodyMode',
  'requestTimeoutMs',
];
const queryValue = fc.oneof(
  fc.constantFrom(
    'ap-guangzhou',
    'pulsar-abc',
    'default',
    'true',
    'false',
    '30000',
    '0',
    '-1',
    'raw',
    'NORMAL',
  ),
  fc.string({ maxLength: 8 }),
);
const urlText = fc
  .record({
    scheme: fc.oneof(
      { arbitrary: fc.constantFrom(...SCHEMES), weight: 8 },
      fc.stringMatching(/^[a-z][a-z0-9+.-]{0,12}$/),
    ),
    user: fc.oneof(fc.constantFrom('AKIDuser', '', '%ZZ'), token.map(encodeURIComponent)),
    pass: fc.option(password, { nil: undefined }),
    host: fc.oneof(
      fc.constantFrom('127.0.0.1', 'localhost', 'tdmq.tencentcloudapi.com', '[::1]', 'h', '', '%ZZ', 'store'),
      fc.stringMatching(/^[a-z0-9.%-]{1,12}$/),
    ),
    port: fc.option(fc.integer({ min: 0, max: 70_000 }).map(String), { nil: undefined }),
    path: fc.constantFrom('', '/', '/vhost', '/%2F', '/a/b', '/%ZZ', '/public/default'),
    query: fc.array(
      fc.tuple(
        fc.oneof({ arbitrary: fc.constantFrom(...QUERY_KEYS), weight: 4 }, fc.string({ maxLength: 5 })),
        queryValue,
      ),
      { maxLength: 5 },
    ),
    raw: fc.option(fc.string({ maxLength: 30 }), { nil: undefined, freq: 8 }),
  })
  .map(({ scheme, user, pass, host, port, path, query, raw }) => {
    if (raw !== undefined) return raw; // not a URL at all, mostly
    const auth = user !== '' || pass !== undefined ? `${user}${pass !== undefined ? `:${pass}` : ''}@` : '';
    const qs = query.length > 0 ? `?${new URLSearchParams(query).toString()}` : '';
    return `${scheme}://${auth}${host}${port !== undefined ? `:${port}` : ''}${path}${qs}`;
  });

const leaks = (text: string) => text.includes(MARK) || text.includes(encodeURIComponent(MARK));

function checkError(error: unknown): void {
  if (!isSwitchyardError(error)) throw new Error(`not a SwitchyardError: ${String(error)}`);
  expect(error.code).toBe('CONFIG');
  expect(error.message.length).toBeGreaterThan(0);
  for (const text of [error.message, String(error), JSON.stringify(error)]) {
    if (leaks(text)) throw new Error(`the secret leaked into the error: ${text}`);
  }
}

/** Resolves the way connect() does, stopping before the driver is created (no network). */
async function parseLikeConnect(text: string): Promise<unknown> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // connect() itself rejects this before any driver is involved.
    return connect(text);
  }
  const name = driverForScheme(url.protocol);
  if (name === undefined) return connect(text); // unknown scheme: rejected before any driver
  return (await loadDriver(name)).fromUrl(url);
}

describe('broker URLs and config objects (fuzz)', () => {
  // Load every driver package first: the first import (amqplib, grpc, ...) is not the parser's time.
  beforeAll(async () => {
    await Promise.all(DRIVERS.map((d) => loadDriver(d)));
  }, 60_000);

  it(
    'every scheme: a config or a CONFIG error, never a leak or a hang',
    async () => {
      await fc.assert(
        fc.asyncProperty(urlText, async (text) => {
          const started = performance.now();
          try {
            const config = await parseLikeConnect(text);
            expect(typeof config).toBe('object');
            if (leaks(JSON.stringify(config))) throw new Error('the secret is readable in the parsed config');
          } catch (error) {
            checkError(error);
          }
          expect(performance.now() - started).toBeLessThan(500);
        }),
        fuzz(20261201),
      );
    },
    TIMEOUT,
  );

  it('memory://%ZZ is a ConfigError', async () => {
    await expect(parseLikeConnect('memory://%ZZ')).rejects.toMatchObject({ code: 'CONFIG' });
  });

  const value = fc.oneof(
    queryValue,
    fc.integer({ min: -10, max: 2_000_000 }),
    fc.boolean(),
    fc.constantFrom(null, undefined, Number.NaN, 1.5, [], {}),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const CONFIG_KEYS = [
    'name',
    'url',
    'serviceUrl',
    'host',
    'port',
    'endpoint',
    'endpoints',
    'region',
    'cluster',
    'namespace',
    'vhost',
    'tenant',
    'mode',
    'topicType',
    'requestTimeoutMs',
    'operationTimeoutMs',
    'retry',
    'tls',
  ];
  const configObject = fc.oneof(
    fc.constantFrom(null, undefined, 0, '', 'memory', [], true),
    fc.dictionary(
      fc.oneof({ arbitrary: fc.constantFrom(...CONFIG_KEYS), weight: 6 }, fc.string({ maxLength: 6 })),
      value,
      { maxKeys: 6 },
    ),
  );

  it(
    'every driver parseConfig: a config or a CONFIG error for any JSON-ish input',
    async () => {
      const modules = await Promise.all(DRIVERS.map((d) => loadDriver(d)));
      await fc.assert(
        fc.asyncProperty(fc.nat(modules.length - 1), configObject, async (i, input) => {
          const started = performance.now();
          try {
            expect(typeof modules[i]!.parseConfig(input)).toBe('object');
          } catch (error) {
            checkError(error);
          }
          expect(performance.now() - started).toBeLessThan(500);
        }),
        fuzz(20261202),
      );
      // connect() itself: a config object without a usable driver never reaches a driver.
      for (const bad of [7, 'x', {}, { driver: 3 }, { driver: 'nope' }]) {
        checkError(await connect(bad as never).catch((e: unknown) => e));
      }
    },
    TIMEOUT,
  );
});
