// Fuzz of the rocketmq driver's URL and config-object parsers (issue 9): whatever arrives, parsing
// returns a config or throws a SwitchyardError with code CONFIG and a message — never another
// exception, never a hang — and the SecretKey given in the URL or the object never shows in the
// error nor in the parsed config's JSON. Malformed percent-escapes in the userinfo are generated
// too (they must be CONFIG errors, not URIErrors). 10,000 runs per property with fixed seeds;
// SWITCHYARD_FUZZ_RUNS raises the count and SWITCHYARD_FUZZ_SEED changes the seed locally.

import { inspect } from 'node:util';
import { isSwitchyardError } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromUrl, parseConfig } from './config.js';

const RUNS = Math.max(10_000, Number(process.env.SWITCHYARD_FUZZ_RUNS) || 0);
const fuzz = (seed: number) => ({ numRuns: RUNS, seed: Number(process.env.SWITCHYARD_FUZZ_SEED) || seed });
const TIMEOUT = (60_000 * RUNS) / 10_000;

/** Every generated secret contains this, so a leak is a substring search. */
const MARK = 'Qv7SECRETpw';

const token = fc.string({ unit: fc.constantFrom(..."aZ09-._~!$&'()*+,;=:@/?#[]% é\u0000"), maxLength: 12 });
const password = fc.oneof(
  token.map((s) => encodeURIComponent(MARK + s)),
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=-]{0,8}$/).map((s) => MARK + s),
  fc.constantFrom('%', '%Z', '%ZZ', '%E0%A4%A', '%C3').map((bad) => MARK + bad),
);
const user = fc.oneof(fc.constantFrom('AKIDuser', '', 'u%20x', '%ZZ'), token.map(encodeURIComponent));
const host = fc.oneof(
  fc.constantFrom(
    '127.0.0.1',
    'localhost',
    'rmq-x.rocketmq.ap-gz.qcloud.tencenttdmq.com',
    '[::1]',
    'h',
    'xn--ls8h',
  ),
  fc.stringMatching(/^[a-z0-9.-]{1,12}$/),
);
const port = fc.option(fc.oneof(fc.integer({ min: 0, max: 70_000 }).map(String), fc.constant('')), {
  nil: undefined,
});
const path = fc.constantFrom('', '/', '/ns', '/%ZZ');
const QUERY_KEYS = [
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
];
const queryValue = fc.oneof(
  fc.constantFrom(
    'ns',
    'rocketmq-abc|ns',
    'full',
    'field',
    'NORMAL',
    'FIFO',
    'DELAY',
    'MIXED',
    'true',
    'false',
    '3000',
    '0',
    '-1',
    '1e3',
    '127.0.0.1:8081',
    'h:1;h:2',
  ),
  fc.string({ maxLength: 10 }),
);
const query = fc.array(
  fc.tuple(
    fc.oneof({ arbitrary: fc.constantFrom(...QUERY_KEYS), weight: 6 }, fc.string({ maxLength: 6 })),
    queryValue,
  ),
  { maxLength: 6 },
);
const scheme = fc.constantFrom('rocketmq', 'rocketmq+tls', 'ROCKETMQ', 'rocketmq+ssl', 'grpc');

const urlText = fc
  .record({ scheme, user, pass: fc.option(password, { nil: undefined }), host, port, path, query })
  .map(({ scheme: s, user: u, pass, host: h, port: p, path: pa, query: q }) => {
    const auth = u !== '' || pass !== undefined ? `${u}${pass !== undefined ? `:${pass}` : ''}@` : '';
    const qs = q.length > 0 ? `?${new URLSearchParams(q).toString()}` : '';
    return `${s}://${auth}${h}${p !== undefined ? `:${p}` : ''}${pa}${qs}`;
  });

function leaks(text: string): boolean {
  return text.includes(MARK) || text.includes(encodeURIComponent(MARK));
}

/** Runs `parse`; checks the outcome is a config or a CONFIG SwitchyardError that shows no secret. */
function check(parse: () => unknown): void {
  const started = performance.now();
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
  } finally {
    expect(performance.now() - started).toBeLessThan(500);
  }
  expect(typeof config).toBe('object');
  if (leaks(JSON.stringify(config))) {
    throw new Error('the secret is readable in the parsed config');
  }
}

describe('rocketmq config parsers (fuzz)', () => {
  const anything = fc.oneof(
    fc.constantFrom(null, undefined, 0, '', 'cmq', [], true),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const value = fc.oneof(
    { arbitrary: queryValue, weight: 4 },
    fc.integer({ min: -10, max: 2_000_000 }),
    fc.boolean(),
    fc.constantFrom(null, undefined, Number.NaN, Number.POSITIVE_INFINITY, 1.5),
    anything,
  );
  /**
   * Secret-typed fields (accessKey, token, secretKey, role, securityToken) take their string values from a fixed pool of 64
   * generated secrets: every live `Secret` value is in core's redaction registry, which `redact()`
   * scans on each call, and a collected Secret leaves it only in a cleanup task that a synchronous
   * 10,000-run property never yields to, so 10,000 distinct secrets make each failing parse ~10x
   * slower. The pool still covers plain, percent-encoded
   * and special-character secrets; other fields stay fully random.
   */
  const SECRET_POOL = fc.sample(password, { numRuns: 64, seed: 1 });
  const SECRET_KEYS = new Set(['accessKey', 'token', 'secretKey', 'role', 'securityToken']);
  const pooled = (fields: Record<string, unknown>, picks: readonly number[]) =>
    Object.fromEntries(
      Object.entries(fields).map(([k, v], i) => [
        k,
        SECRET_KEYS.has(k) && typeof v === 'string' ? SECRET_POOL[(picks[i] ?? 0) % SECRET_POOL.length] : v,
      ]),
    );
  const configObject = fc.oneof(
    { arbitrary: anything, weight: 1 },
    {
      arbitrary: fc
        .record({
          fields: fc.dictionary(
            fc.oneof(
              {
                arbitrary: fc.constantFrom(
                  'endpoints',
                  'cluster',
                  'namespace',
                  'naming',
                  'accessKey',
                  'token',
                  'role',
                  'securityToken',
                  'tls',
                  'topicType',
                  'fifoGroups',
                  'requestTimeoutMs',
                  'startupTimeoutMs',
                  'longPollMs',
                  'invisibleDurationMs',
                  'maxMessageBytes',
                  'ensureGroup',
                ),
                weight: 6,
              },
              fc.string(),
            ),
            value,
            { maxKeys: 8 },
          ),
          secretId: fc.option(fc.constantFrom('AKIDx', '', 7), { nil: undefined }),
          secretKey: fc.option(fc.constantFrom(...SECRET_POOL), { nil: undefined }),
          picks: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
        })
        .map(({ fields, secretId, secretKey, picks }) => ({
          ...pooled(fields, picks),
          ...(secretId !== undefined ? { accessKey: secretId } : {}),
          ...(secretKey !== undefined ? { secretKey: secretKey } : {}),
        })),
      weight: 8,
    },
  );

  it(
    'parseConfig: a config or a CONFIG error for any JSON-ish input, never a leak',
    () => {
      fc.assert(
        fc.property(configObject, (input) => check(() => parseConfig(input))),
        fuzz(20261127),
      );
    },
    TIMEOUT,
  );

  // After the config-object property: each distinct URL password stays in core's Secret
  // registry, which would slow every later parse in this file (see SECRET_POOL).
  it(
    'fromUrl: a config or a CONFIG error, never a leak',
    () => {
      fc.assert(
        fc.property(urlText, (text) => {
          let url: URL;
          try {
            url = new URL(text);
          } catch {
            return; // connect() rejects these before any driver sees them (core's connect fuzz)
          }
          check(() => fromUrl(url));
        }),
        fuzz(20261126),
      );
    },
    TIMEOUT,
  );
});
