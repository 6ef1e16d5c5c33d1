// Fuzz of every network driver's URL and config-object parsers (issue 9): whatever arrives,
// parsing returns a config or throws a SwitchyardError with code CONFIG and a message — never
// another exception, never a hang — and a secret given in the URL or the object never shows in the
// error nor in the parsed config's JSON. Malformed percent-escapes in the userinfo are generated
// too (they must be CONFIG errors, not URIErrors). One generator, a table of what each driver
// takes. 10,000 runs per property with fixed seeds; SWITCHYARD_FUZZ_RUNS raises the count and
// SWITCHYARD_FUZZ_SEED changes the seed locally. (Core's connect.fuzz.test.ts covers the URL
// routing in front of these and the memory driver.)

import { inspect } from 'node:util';
import { type DriverModule, isSwitchyardError, loadDriver } from '@switchyard/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

const RUNS = Math.max(10_000, Number(process.env.SWITCHYARD_FUZZ_RUNS) || 0);
const fuzz = (seed: number) => ({ numRuns: RUNS, seed: Number(process.env.SWITCHYARD_FUZZ_SEED) || seed });
const TIMEOUT = (60_000 * RUNS) / 10_000;

/** Every generated secret contains this, so a leak is a substring search. */
const MARK = 'Qv7SECRETpw';

interface DriverSpec {
  readonly driver: string;
  /** URL schemes to try: the driver's own, in other cases, and near misses. */
  readonly schemes: readonly string[];
  readonly hosts: readonly string[];
  readonly paths: readonly string[];
  readonly queryKeys: readonly string[];
  readonly queryValues: readonly string[];
  /** Query keys that carry a secret (generated as secrets, not as plain values). */
  readonly secretQueryKeys?: readonly string[];
  readonly configKeys: readonly string[];
  /** Config fields holding secrets: drawn from a pool of generated secrets (see SECRET_POOL). */
  readonly secretKeys: readonly string[];
  /** Where the generated identifier and secret go in a config object. */
  readonly idField: string;
  readonly secretField: string;
  readonly seeds: readonly [config: number, url: number];
}

const COMMON_VALUES = ['true', 'false', '0', '-1', '1e3'];

const SPECS: readonly DriverSpec[] = [
  {
    driver: 'cmq',
    schemes: ['cmq+https', 'cmq+http', 'cmq', 'https', 'CMQ+HTTP'],
    hosts: ['cmq-gz.public.tencenttdmq.com'],
    paths: ['/v2/index.php', '/x'],
    queryKeys: [
      'region',
      'signatureMethod',
      'path',
      'managementEndpoint',
      'model',
      'topicFilter',
      'defaultRoutingKey',
      'bodyMode',
      'manageTopology',
      'deadLetter',
      'nackMode',
      'visibilityTimeoutMs',
      'maxMessageBytes',
      'maxConnections',
      'requestTimeoutMs',
    ],
    queryValues: [
      'ap-guangzhou',
      'ap-nowhere',
      'HmacSHA256',
      'HmacSHA1',
      '/',
      '/v2/index.php',
      'http://127.0.0.1:1',
      'queue',
      'topic',
      'tag',
      'routing',
      'a.b',
      'raw',
      'envelope',
      'native',
      'emulated',
      'requeue',
      'visibility',
      '30000',
      '1024',
    ],
    configKeys: ['endpoint', 'token'],
    secretKeys: ['secretKey', 'token'],
    idField: 'secretId',
    secretField: 'secretKey',
    seeds: [20261125, 20261124],
  },
  {
    driver: 'rabbitmq',
    schemes: ['amqp', 'amqps', 'AMQP', 'amqp+tls', 'rabbitmq'],
    hosts: ['amqp-xx.rabbitmq.ap-gz.public.tencenttdmq.com'],
    paths: ['/vhost', '/%2F', '/c%7Cv', '/a/b'],
    queryKeys: [
      'cluster',
      'exchangeType',
      'queueType',
      'topology',
      'queueName',
      'queueExpiresMs',
      'delayPrefix',
      'delayLevels',
      'delayQueueType',
      'unroutable',
      'persistent',
      'heartbeat',
      'connectTimeoutMs',
      'unavailableTimeoutMs',
      'maxMessageBytes',
      'connectionName',
      'rejectUnauthorized',
      'servername',
    ],
    queryValues: [
      'amqp-xx|vhost',
      'topic',
      'direct',
      'fanout',
      'headers',
      'classic',
      'quorum',
      'durable',
      '60',
      'delay.',
      'return',
      'drop',
      'h.example',
    ],
    configKeys: [
      'protocol',
      'host',
      'port',
      'role',
      'token',
      'vhost',
      'tls',
      'heartbeatSeconds',
      'reconnect',
    ],
    secretKeys: ['password', 'token'],
    idField: 'username',
    secretField: 'password',
    seeds: [20261131, 20261130],
  },
  {
    driver: 'pulsar-http',
    schemes: ['pulsar-http+https', 'pulsar-http+http', 'PULSAR-HTTP+HTTP', 'pulsar-http', 'http'],
    hosts: ['tdmq.tencentcloudapi.com'],
    paths: ['/x'],
    queryKeys: [
      'region',
      'cluster',
      'namespace',
      'secretId',
      'mode',
      'manageTopology',
      'partitions',
      'maxConcurrency',
      'receiveWaitMs',
      'receiveMode',
      'requestTimeoutMs',
      'pack',
    ],
    queryValues: [
      'ap-guangzhou',
      'AP_GZ',
      'pulsar-abc',
      'default',
      'ns',
      'raw',
      'envelope',
      '2',
      '33',
      '500',
      'auto',
      'batch',
      'single',
      '30000',
    ],
    secretQueryKeys: ['secretKey', 'token'],
    configKeys: ['sessionToken', 'token', 'endpoint', 'protocol', 'agent'],
    secretKeys: ['secretId', 'secretKey', 'sessionToken', 'token'],
    idField: 'secretId',
    secretField: 'secretKey',
    seeds: [20261129, 20261128],
  },
  {
    driver: 'rocketmq',
    schemes: ['rocketmq', 'rocketmq+tls', 'ROCKETMQ', 'rocketmq+ssl', 'grpc'],
    hosts: ['rmq-x.rocketmq.ap-gz.qcloud.tencenttdmq.com'],
    paths: ['/ns'],
    queryKeys: [
      'namespace',
      'cluster',
      'naming',
      'topicType',
      'fifoGroups',
      'requestTimeoutMs',
      'startupTimeoutMs',
      'longPollMs',
      'invisibleDurationMs',
      'maxMessageBytes',
    ],
    queryValues: [
      'ns',
      'rocketmq-abc|ns',
      'full',
      'field',
      'NORMAL',
      'FIFO',
      'DELAY',
      'MIXED',
      '3000',
      '127.0.0.1:8081',
      'h:1;h:2',
    ],
    configKeys: ['endpoints', 'token', 'role', 'securityToken', 'tls', 'ensureGroup'],
    secretKeys: ['accessKey', 'token', 'secretKey', 'role', 'securityToken'],
    idField: 'accessKey',
    secretField: 'secretKey',
    seeds: [20261127, 20261126],
  },
  {
    driver: 'pulsar',
    schemes: ['pulsar', 'pulsar+ssl', 'PULSAR', 'pulsar+tls', 'http'],
    hosts: ['pulsar-xx.tdmq.ap-gz.public.tencenttdmq.com'],
    paths: ['/x'],
    queryKeys: [
      'cluster',
      'namespace',
      'subscriptionType',
      'batching',
      'batchingMaxPublishDelayMs',
      'batchingMaxMessages',
      'maxPendingMessages',
      'sendTimeoutMs',
      'operationTimeoutSeconds',
      'connectionTimeoutMs',
      'nackRedeliveryMs',
      'maxMessageBytes',
      'tlsTrustCertsFilePath',
      'tlsValidateHostname',
      'tlsAllowInsecureConnection',
      'listenerName',
    ],
    queryValues: [
      'pulsar-abc',
      'public',
      'default',
      'Shared',
      'KeyShared',
      'Failover',
      'Exclusive',
      '10',
      '30000',
    ],
    configKeys: ['serviceUrl', 'pulsarClient'],
    secretKeys: ['token'],
    idField: 'cluster',
    secretField: 'token',
    seeds: [20261133, 20261132],
  },
];

const token = fc.string({ unit: fc.constantFrom(..."aZ09-._~!$&'()*+,;=:@/?#[]% é\u0000"), maxLength: 12 });
const password = fc.oneof(
  token.map((s) => encodeURIComponent(MARK + s)),
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=-]{0,8}$/).map((s) => MARK + s),
  fc.constantFrom('%', '%Z', '%ZZ', '%E0%A4%A', '%C3').map((bad) => MARK + bad),
);
const user = fc.oneof(fc.constantFrom('AKIDuser', '', 'u%20x', '%ZZ'), token.map(encodeURIComponent));
const port = fc.option(fc.oneof(fc.integer({ min: 0, max: 70_000 }).map(String), fc.constant('')), {
  nil: undefined,
});

function decodeOrKeep(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function urlText(spec: DriverSpec): fc.Arbitrary<string> {
  const host = fc.oneof(
    fc.constantFrom('127.0.0.1', 'localhost', '[::1]', 'h', 'xn--ls8h', ...spec.hosts),
    fc.stringMatching(/^[a-z0-9.-]{1,12}$/),
  );
  const queryValue = fc.oneof(
    fc.constantFrom(...spec.queryValues, ...COMMON_VALUES),
    fc.string({ maxLength: 10 }),
  );
  const plain = fc.tuple(
    fc.oneof({ arbitrary: fc.constantFrom(...spec.queryKeys), weight: 6 }, fc.string({ maxLength: 6 })),
    queryValue,
  );
  const secret = spec.secretQueryKeys
    ? fc.tuple(fc.constantFrom(...spec.secretQueryKeys), password.map(decodeOrKeep))
    : undefined;
  const pair = secret ? fc.oneof({ arbitrary: secret, weight: 1 }, { arbitrary: plain, weight: 6 }) : plain;
  return fc
    .record({
      scheme: fc.constantFrom(...spec.schemes),
      user,
      pass: fc.option(password, { nil: undefined }),
      host,
      port,
      path: fc.constantFrom('', '/', '/%ZZ', ...spec.paths),
      query: fc.array(pair, { maxLength: 6 }),
    })
    .map(({ scheme, user: u, pass, host: h, port: p, path, query }) => {
      const auth = u !== '' || pass !== undefined ? `${u}${pass !== undefined ? `:${pass}` : ''}@` : '';
      const qs = query.length > 0 ? `?${new URLSearchParams(query).toString()}` : '';
      return `${scheme}://${auth}${h}${p !== undefined ? `:${p}` : ''}${path}${qs}`;
    });
}

/**
 * Secret-typed fields take their string values from a fixed pool of 64 generated secrets: every
 * live `Secret` value is in core's redaction registry, which `redact()` scans on each call, and a
 * collected Secret leaves it only in a cleanup task that a synchronous 10,000-run property never
 * yields to, so 10,000 distinct secrets make each failing parse ~10x slower. The pool still covers
 * plain, percent-encoded and special-character secrets; other fields stay fully random.
 */
const SECRET_POOL = fc.sample(password, { numRuns: 64, seed: 1 });

function configObject(spec: DriverSpec): fc.Arbitrary<unknown> {
  const anything = fc.oneof(
    fc.constantFrom(null, undefined, 0, '', spec.driver, [], true),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const value = fc.oneof(
    { arbitrary: fc.oneof(fc.constantFrom(...spec.queryValues, ...COMMON_VALUES), fc.string()), weight: 4 },
    fc.integer({ min: -10, max: 2_000_000 }),
    fc.boolean(),
    fc.constantFrom(null, undefined, Number.NaN, Number.POSITIVE_INFINITY, 1.5),
    anything,
  );
  const keys = [...new Set([...spec.queryKeys, ...spec.configKeys, ...spec.secretKeys])];
  const secretKeys = new Set(spec.secretKeys);
  return fc.oneof(
    { arbitrary: anything, weight: 1 },
    {
      arbitrary: fc
        .record({
          fields: fc.dictionary(
            fc.oneof({ arbitrary: fc.constantFrom(...keys), weight: 6 }, fc.string()),
            value,
            { maxKeys: 8 },
          ),
          id: fc.option(fc.constantFrom('AKIDx', '', 7), { nil: undefined }),
          secret: fc.option(fc.constantFrom(...SECRET_POOL), { nil: undefined }),
          picks: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
        })
        .map(({ fields, id, secret, picks }) => ({
          ...Object.fromEntries(
            Object.entries(fields).map(([k, v], i) => [
              k,
              secretKeys.has(k) && typeof v === 'string'
                ? SECRET_POOL[(picks[i] ?? 0) % SECRET_POOL.length]
                : v,
            ]),
          ),
          ...(id !== undefined ? { [spec.idField]: id } : {}),
          ...(secret !== undefined ? { [spec.secretField]: secret } : {}),
        })),
      weight: 8,
    },
  );
}

function leaks(text: string): boolean {
  return text.includes(MARK) || text.includes(encodeURIComponent(MARK));
}

/** Runs `parse`; checks the outcome is a config or a CONFIG SwitchyardError that shows no secret. */
function check(parse: () => unknown): void {
  let config: unknown;
  try {
    config = parse();
  } catch (error) {
    if (!isSwitchyardError(error)) throw new Error(`not a SwitchyardError: ${inspect(error)}`);
    expect(error.code).toBe('CONFIG');
    expect(error.message.length).toBeGreaterThan(0);
    for (const text of [error.message, String(error), JSON.stringify(error)]) {
      if (leaks(text)) throw new Error(`the secret leaked into the error: ${text}`);
    }
    return;
  }
  expect(typeof config).toBe('object');
  if (leaks(JSON.stringify(config))) throw new Error('the secret is readable in the parsed config');
}

for (const spec of SPECS) {
  describe(`${spec.driver} config parsers (fuzz)`, () => {
    let module: DriverModule;
    beforeAll(async () => {
      module = await loadDriver(spec.driver);
    });

    it(
      'parseConfig: a config or a CONFIG error for any JSON-ish input, never a leak',
      () => {
        fc.assert(
          fc.property(configObject(spec), (input) => check(() => module.parseConfig(input))),
          fuzz(spec.seeds[0]),
        );
      },
      TIMEOUT,
    );

    // After the config-object property: each distinct URL password joins core's Secret registry,
    // which would slow every later parse (see SECRET_POOL).
    it(
      'fromUrl: a config or a CONFIG error, never a leak',
      () => {
        fc.assert(
          fc.property(urlText(spec), (text) => {
            let url: URL;
            try {
              url = new URL(text);
            } catch {
              return; // connect() rejects these before any driver sees them (core's connect fuzz)
            }
            check(() => module.fromUrl(url));
          }),
          fuzz(spec.seeds[1]),
        );
      },
      TIMEOUT,
    );
  });
}
