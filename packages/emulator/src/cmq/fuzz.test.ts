// Property-based fuzz of the CMQ HTTP handler, driven in-process (no sockets): random methods,
// paths, headers and bodies, and correctly signed requests with arbitrary actions and parameters,
// some with a stale or future Timestamp and some sent twice. Every reply must come promptly, be
// HTTP 200 with the `{code, message, requestId}` envelope, and carry a documented code.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEST_CREDENTIAL } from '../../test-kit/cmq.js';
import { fuzzParameters, fuzzTimeout } from '../../test-kit/fuzz-settings.js';
import { within } from '../../test-kit/within.js';
import type { ParsedRequest } from '../contracts.js';
import { actions } from './actions.js';
import { CmqEngine } from './engine.js';
import { CmqHandler } from './handler.js';
import { signParams } from './signature.js';

const HOST = '127.0.0.1:9999';

/**
 * Every (code, module) pair the handler may answer with: the fact sheet's §8 tables, plus the
 * module numbers the emulator chose where the sheet gives none (README, "Fidelity"): 4460/4460
 * queue exists, 4440/10600 subscription does not exist, 4500/10100 Timestamp window and replay.
 * 6000/10050 (server internal error) is deliberately absent: it is what an unexpected exception
 * turns into, so it must never be seen.
 */
const DOCUMENTED: ReadonlyMap<number, readonly number[]> = new Map([
  [
    4000,
    [
      10000, 10010, 10020, 10110, 10120, 10280, 10310, 10320, 10330, 10350, 10360, 10370, 10380, 10390, 10400,
      10410, 10420, 10430, 10450, 10470, 10490, 10500, 10510, 10520, 10530, 10540, 10580, 10590, 10620, 10630,
      10640, 10670, 10680, 10691, 10700, 10710, 10720,
    ],
  ],
  [4100, [10030, 10080, 10270]],
  [4400, [10230]],
  [4410, [10240]],
  [4430, [10260]],
  [4440, [10100, 10600]],
  [4450, [10220, 10610]],
  [4460, [4460, 10550]],
  [4470, [10300]],
  [4490, [10470]],
  [4500, [10100, 10480]],
  [4510, [10570]],
  [6010, [10150]],
  [6030, [10650, 10730]],
  [6040, [10660]],
  [6050, [10670, 10740]],
  [7000, [10200]],
]);

const ACTION_NAMES = Object.keys(actions);
const PARAM_NAMES = [
  'queueName',
  'topicName',
  'subscriptionName',
  'msgBody',
  'msgBody.0',
  'msgBody.1',
  'msgBody.2',
  'msgBody.x',
  'receiptHandle',
  'receiptHandle.1',
  'delaySeconds',
  'pollingWaitSeconds',
  'numOfMsg',
  'visibilityTimeout',
  'maxMsgSize',
  'maxMsgHeapNum',
  'msgRetentionSeconds',
  'rewindSeconds',
  'deadLetterPolicy',
  'startConsumeTime',
  'filterType',
  'protocol',
  'endpoint',
  'notifyStrategy',
  'notifyContentFormat',
  'filterTag.1',
  'bindingKey.1',
  'msgTag.1',
  'routingKey',
  'offset',
  'limit',
  'searchWord',
];
const value = fc.oneof(
  fc.constantFrom(
    'q1',
    'Q1',
    'topic1',
    'sub1',
    '',
    '0',
    '1',
    '16',
    '31',
    '-1',
    'http://127.0.0.1:1/x',
    'queue',
    'http',
  ),
  fc.constantFrom(
    'SIMPLIFIED',
    'JSON',
    'BACKOFF_RETRY',
    'a.b',
    '#',
    '{"deadLetterQueue":"q1","policy":0}',
    '@x',
  ),
  fc.integer({ min: -5, max: 100_000 }).map(String),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

function parsed(
  method: string,
  path: string,
  body: string,
  headers: Record<string, string>,
  query = '',
): ParsedRequest {
  return {
    method,
    path,
    query: new URLSearchParams(query),
    headers: { host: HOST, ...headers },
    body: Buffer.from(body, 'utf8'),
    signal: AbortSignal.timeout(30),
  };
}

async function checkReply(handler: CmqHandler, request: ParsedRequest): Promise<Record<string, unknown>> {
  expect(typeof handler.actionOf(request)).toBe('string');
  // A generous bound: only a reply that never comes fails it.
  const reply = await within(handler.handle(request), 10_000, 'handler reply');
  expect(reply.status).toBe(200);
  const json = JSON.parse(String(reply.body)) as Record<string, unknown>;
  expect(typeof json.code).toBe('number');
  expect(typeof json.message).toBe('string');
  expect(typeof json.requestId).toBe('string');
  if (json.code !== 0) {
    const module = Number(/^\((\d+)\)/.exec(json.message as string)?.[1]);
    const allowed = DOCUMENTED.get(json.code as number);
    if (allowed === undefined || !allowed.includes(module)) {
      throw new Error(`undocumented CMQ reply ${json.code} ${json.message}`);
    }
  } else expect(json.message).toBe('');
  return json;
}

function newHandler(): CmqHandler {
  const engine = new CmqEngine({ recreateGuardSeconds: 0, pushTimeoutMs: 50 });
  engine.createQueue('q1');
  engine.createTopic('topic1');
  return new CmqHandler({ engine, credentials: [TEST_CREDENTIAL] });
}

describe('CMQ handler fuzz', () => {
  it(
    'answers arbitrary unsigned input with a well-formed CMQ error',
    async () => {
      const handler = newHandler();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('POST', 'GET', 'PUT', 'DELETE', 'post'),
          fc.constantFrom('/', '/v2/index.php', '/x?y', ''),
          fc.oneof(
            fc.string({ maxLength: 200 }),
            fc.string({ unit: 'binary', maxLength: 200 }),
            fc.webQueryParameters(),
          ),
          fc.dictionary(
            fc.constantFrom('content-type', 'host', 'x-anything', 'content-length'),
            fc.string({ maxLength: 30 }),
          ),
          async (method, path, body, headers) => {
            const reply = await checkReply(handler, parsed(method, path, body, headers, body));
            expect(reply.code).not.toBe(0);
          },
        ),
        fuzzParameters(20261124),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'answers signed actions and params with a well-formed reply; stale, future and replayed requests get 4500',
    async () => {
      const handler = newHandler();
      let nonce = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ACTION_NAMES),
          fc.dictionary(fc.constantFrom(...PARAM_NAMES), value, { maxKeys: 8 }),
          fc.constantFrom('/', '/v2/index.php'),
          fc.boolean(),
          // Mostly now; sometimes near or past either edge of the 300 s window.
          fc.oneof(
            { arbitrary: fc.constant(0), weight: 8 },
            { arbitrary: fc.integer({ min: -1000, max: 1000 }), weight: 2 },
          ),
          fc.boolean(),
          async (action, extra, path, sha256, skew, resend) => {
            const timestamp = Math.floor(Date.now() / 1000) + skew;
            const params = signParams({
              method: 'POST',
              host: HOST,
              path,
              secretKey: TEST_CREDENTIAL.secretKey,
              params: [
                ['Action', action],
                ['Nonce', String(++nonce)],
                ['SecretId', TEST_CREDENTIAL.secretId],
                ['SignatureMethod', sha256 ? 'HmacSHA256' : 'HmacSHA1'],
                ['Timestamp', String(timestamp)],
                ...Object.entries(extra),
              ],
            });
            const body = new URLSearchParams(params).toString();
            const reply = await checkReply(handler, parsed('POST', path, body, {}));
            // A signed request must never fail authentication: that would mean parse and sign disagree.
            expect(reply.code).not.toBe(4100);
            // Clear of the edges (the clock moves while the property runs), the window decides.
            const expired = Math.abs(skew) > 302;
            if (expired) expect(reply.message).toMatch(/^\(10100\)request is expired/);
            if (Math.abs(skew) < 298) expect(reply.message).not.toMatch(/^\(10100\)request is expired/);
            if (resend && Math.abs(skew) < 298) {
              // The same bytes again: refused as a replay, before any action runs.
              const again = await checkReply(handler, parsed('POST', path, body, {}));
              expect(again).toMatchObject({ code: 4500 });
              expect(again.message).toMatch(/^\(10100\)request is replayed/);
            }
          },
        ),
        fuzzParameters(20261125),
      );
    },
    fuzzTimeout(90_000),
  );
});
