// Property-based fuzzing of request parsing and the handler: whatever arrives — random methods,
// headers, bodies, actions and parameters, signed or not — the handler answers promptly with HTTP 200
// and a well-formed envelope, and never throws.

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { fuzzParameters, fuzzTimeout } from '../../test-kit/fuzz-settings.js';
import { ManualClock } from '../../test-kit/manual-clock.js';
import { within } from '../../test-kit/within.js';
import { CmqEngine } from '../cmq/engine.js';
import type { ParsedRequest } from '../contracts.js';
import { createTcApiHandler } from './handler.js';
import { unflatten, validateParams } from './params.js';
import { actionOf } from './request.js';
import { legacySignature, legacySignString } from './sign-legacy.js';
import { canonicalRequest, stringToSign, tc3Signature, utcDate } from './sign-tc3.js';

const CRED = { secretId: 'AKIDFUZZ', secretKey: 'fuzz-key' };

/**
 * Every Error.Code the endpoint may answer with: the API 3.0 common codes (fact sheet §3.3) and the
 * TDMQ per-action codes (§3.4). `InternalError` is deliberately absent: it is what an unexpected
 * exception turns into, so it must never be seen.
 */
const DOCUMENTED_CODES = new Set([
  'AuthFailure.InvalidAuthorization',
  'AuthFailure.SecretIdNotFound',
  'AuthFailure.SignatureExpire',
  'AuthFailure.SignatureFailure',
  'FailedOperation',
  'FailedOperation.MaxMessageSizeError',
  'FailedOperation.MessageIDError',
  'FailedOperation.ReceiveError',
  'FailedOperation.ReceiveTimeout',
  'FailedOperation.TopicTypeError',
  'InvalidAction',
  'InvalidParameter',
  'InvalidParameter.TenantNotFound',
  'InvalidParameterValue',
  'InvalidParameterValue.AckTime',
  'InvalidParameterValue.TopicNotFound',
  'LimitExceeded',
  'LimitExceeded.Subscriptions',
  'LimitExceeded.Topics',
  'MissingParameter',
  'NoSuchVersion',
  'RequestSizeLimitExceeded',
  'ResourceInUse.Namespace',
  'ResourceInUse.Queue',
  'ResourceInUse.Subscription',
  'ResourceInUse.Topic',
  'ResourceNotFound',
  'ResourceNotFound.Cluster',
  'ResourceNotFound.Environment',
  'ResourceNotFound.Subscription',
  'ResourceNotFound.Topic',
  'UnknownParameter',
  'UnsupportedProtocol',
]);
const clock = new ManualClock(1_700_000_000_000);
const cmq = new CmqEngine({ clock });
const handler = createTcApiHandler({
  credentials: [CRED],
  cmq,
  clock,
  authClock: clock,
  pulsar: { receiveWaitMs: 0, maxReceiveWaitMs: 5 },
});
// Some real resources, so fuzzed parameters sometimes reach the engines' deeper paths.
handler.pulsar.createTopic('pulsar-emulator', 'default', 'fz', {
  partitions: 2,
  partitioned: true,
  pulsarTopicType: 3,
  topicType: 0,
  remark: '',
  msgTtlSec: undefined,
  ackTimeoutSec: undefined,
});
cmq.createQueue('fzq');
cmq.createTopic('fzt');
afterAll(() => cmq.close());

const ACTIONS = [
  'SendMessages',
  'SendBatchMessages',
  'ReceiveMessage',
  'AcknowledgeMessage',
  'CreateTopic',
  'DescribeTopics',
  'DeleteTopics',
  'CreateSubscription',
  'DescribeSubscriptions',
  'DeleteSubscriptions',
  'ResetMsgSubOffsetByTimestamp',
  'DescribeClusters',
  'CreateEnvironment',
  'DescribeEnvironments',
  'CreateCmqQueue',
  'DescribeCmqQueues',
  'DescribeCmqQueueDetail',
  'ModifyCmqQueueAttribute',
  'DeleteCmqQueue',
  'ClearCmqQueue',
  'RewindCmqQueue',
  'CreateCmqTopic',
  'DescribeCmqTopics',
  'DescribeCmqTopicDetail',
  'ModifyCmqTopicAttribute',
  'DeleteCmqTopic',
  'CreateCmqSubscribe',
  'DescribeCmqSubscriptionDetail',
  'ModifyCmqSubscriptionAttribute',
  'DeleteCmqSubscribe',
  'SendCmqMsg',
  'PublishCmqMsg',
];
const FIELDS = [
  'Topic',
  'Payload',
  'SubscriptionName',
  'MessageId',
  'AckTopic',
  'SubName',
  'ClusterId',
  'EnvironmentId',
  'TopicName',
  'Partitions',
  'IsIdempotent',
  'TopicSets',
  'SubscriptionTopicSets',
  'MaxNumMessages',
  'Timeout',
  'QueueName',
  'MsgContent',
  'DelaySeconds',
  'Tags',
  'Filters',
  'Offset',
  'Limit',
  'RetentionPolicy',
  'MsgTag',
  'FilterTag',
  'Protocol',
  'Endpoint',
  '__proto__',
  'constructor',
];

const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    'pulsar-emulator/default/fz',
    'fz',
    'fzq',
    'fzt',
    'default',
    'pulsar-emulator',
    '1:2:0',
    'queue',
  ),
  fc.integer({ min: -5, max: 2_000_000_000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...FIELDS, 'TagKey', 'TagValue', 'Name', 'Values'), tie('v'), {
      maxKeys: 3,
    }),
  ),
})).v;
const params = fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 6 });
const action = fc.oneof(fc.constantFrom(...ACTIONS), fc.string({ maxLength: 20 }));

function flatten(v: unknown, prefix: string, out: [string, string][]): void {
  if (v === null || v === undefined) return;
  if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.push([prefix, String(v)]);
}

function request(init: Partial<ParsedRequest> & { body?: Buffer }): ParsedRequest {
  return {
    method: init.method ?? 'POST',
    path: init.path ?? '/',
    query: init.query ?? new URLSearchParams(),
    headers: init.headers ?? {},
    body: init.body ?? Buffer.alloc(0),
    signal: new AbortController().signal,
  };
}

const nowSec = () => Math.floor(clock.now() / 1000);

let nonce = 0;
const skew = fc.oneof(
  { arbitrary: fc.constant(0), weight: 8 },
  { arbitrary: fc.integer({ min: -1000, max: 1000 }), weight: 2 },
);

/** A correctly signed TC3 request carrying arbitrary action and parameters. */
const signedTc3 = fc
  .record({
    action,
    params,
    version: fc.constantFrom('2020-02-17', '2020-02-17', 'x'),
    get: fc.boolean(),
    skew,
  })
  .map(({ action: a, params: p, version, get, skew: k }) => {
    const ts = String(nowSec() + k);
    const date = utcDate(Number(ts));
    let body = Buffer.alloc(0);
    let query = new URLSearchParams();
    let ct = 'application/json';
    if (get) {
      const flat: [string, string][] = [];
      flatten(p, '', flat);
      query = new URLSearchParams(flat);
      ct = 'application/x-www-form-urlencoded';
    } else body = Buffer.from(JSON.stringify(p));
    const rawQuery = flat2(query);
    const canonical = canonicalRequest({
      method: get ? 'GET' : 'POST',
      path: '/',
      rawQuery,
      headerLines: [
        ['content-type', ct],
        ['host', 'localhost'],
      ],
      payload: get ? '' : body,
    });
    const sig = tc3Signature(CRED.secretKey, date, 'tdmq', stringToSign(ts, date, 'tdmq', canonical));
    return {
      skew: k,
      action: a,
      req: request({
        method: get ? 'GET' : 'POST',
        query,
        body,
        headers: {
          host: 'localhost:1234',
          'content-type': ct,
          'x-tc-action': a,
          'x-tc-version': version,
          'x-tc-timestamp': ts,
          'x-tc-region': 'ap-guangzhou',
          authorization: `TC3-HMAC-SHA256 Credential=${CRED.secretId}/${date}/tdmq/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`,
        },
      }),
    };
  });

function flat2(q: URLSearchParams): string {
  return [...q].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** A correctly signed v1 (HmacSHA256) form request with arbitrary action and parameters. */
const signedLegacy = fc.record({ action, params, skew }).map(({ action: a, params: p, skew: k }) => {
  const flat: [string, string][] = [];
  flatten(p, '', flat);
  const all = new Map<string, string>([
    ...flat.filter(([k]) => k !== ''),
    ['Action', a],
    ['Version', '2020-02-17'],
    ['Region', 'ap-guangzhou'],
    ['Timestamp', String(nowSec() + k)],
    ['Nonce', String(++nonce)],
    ['SecretId', CRED.secretId],
    ['SignatureMethod', 'HmacSHA256'],
  ]);
  all.set(
    'Signature',
    legacySignature(CRED.secretKey, legacySignString('POST', 'h:1', '/', all), 'HmacSHA256'),
  );
  return {
    skew: k,
    action: a,
    req: request({
      headers: { host: 'h:1', 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(new URLSearchParams([...all]).toString()),
    }),
  };
});

/** Garbage: random method, random header subset, random bytes or JSON body. */
const garbage = fc
  .record({
    method: fc.constantFrom('POST', 'GET', 'PUT', 'DELETE', ''),
    headers: fc.dictionary(
      fc.constantFrom(
        'x-tc-action',
        'x-tc-version',
        'x-tc-timestamp',
        'authorization',
        'content-type',
        'host',
        'x-tc-region',
      ),
      fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom(
          'TC3-HMAC-SHA256 Credential=AKIDFUZZ/2023-11-14/tdmq/tc3_request, SignedHeaders=content-type;host, Signature=' +
            '0'.repeat(64),
          'application/json',
          '2020-02-17',
          '1700000000',
        ),
      ),
    ),
    body: fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      params.map((p) => Buffer.from(JSON.stringify(p))),
    ),
    query: fc.string({ maxLength: 40 }).map((s) => new URLSearchParams(s)),
  })
  .map((r) => request(r));

function assertEnvelope(reply: {
  status: number;
  body: string | Buffer;
  headers?: Readonly<Record<string, string>>;
}) {
  expect(reply.status).toBe(200);
  expect(reply.headers?.['content-type']).toBe('application/json');
  const parsed = JSON.parse(reply.body.toString()) as { Response?: Record<string, unknown> };
  const r = parsed.Response;
  expect(r).toBeTypeOf('object');
  expect(r?.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  const err = r?.Error as { Code?: unknown; Message?: unknown } | undefined;
  if (err !== undefined) {
    expect(err.Code).toMatch(/^[A-Z][A-Za-z]+(\.[A-Za-z]+)?$/);
    if (!DOCUMENTED_CODES.has(err.Code as string))
      throw new Error(`undocumented Error.Code ${String(err.Code)}`);
    expect(typeof err.Message).toBe('string');
    expect(Object.keys(r ?? {}).sort()).toEqual(['Error', 'RequestId']);
  }
  return err?.Code as string | undefined;
}

describe('fuzz', () => {
  const prompt = async (req: ParsedRequest) => {
    expect(typeof actionOf(req)).toBe('string');
    // Waits are capped at 5 ms here, so a reply that never comes is a hang, not a slow machine.
    const code = assertEnvelope(await within(handler.handle(req), 10_000, `${actionOf(req)} reply`));
    expect(handler.injectedError(req, actionOf(req)).status).toBe(200);
    return code;
  };

  it(
    'every request gets a prompt, well-formed envelope with a documented code',
    async () => {
      const seen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            signedTc3.map((r) => ({ ...r, kind: 'tc3' as const })),
            signedLegacy.map((r) => ({ ...r, kind: 'v1' as const })),
            garbage.map((req) => ({ req, skew: 0, action: '', kind: 'garbage' as const })),
          ),
          fc.boolean(),
          async ({ req, skew: k, action: a, kind }, resend) => {
            const code = await prompt(req);
            seen.add(code ?? 'ok');
            if (kind === 'garbage') return;
            // The clock stands still here, so the 300 s window decides exactly; only a request that
            // names no action fails earlier (MissingParameter, before authentication).
            const preAuth = a === '' ? 'MissingParameter' : undefined;
            if (Math.abs(k) > 300) expect(code).toBe(preAuth ?? 'AuthFailure.SignatureExpire');
            else expect(code ?? 'ok').not.toMatch(/^AuthFailure/);
            if (resend && Math.abs(k) <= 300) {
              // v1 carries a Nonce: the same request again is a replay. TC3 has none and Tencent
              // accepts an identical request inside the window: never an authentication failure.
              const again = await prompt(req);
              if (kind === 'v1') expect(again).toBe(preAuth ?? 'AuthFailure.SignatureExpire');
              else expect(again ?? 'ok').not.toMatch(/^AuthFailure/);
            }
          },
        ),
        fuzzParameters(20261123),
      );
      // The generators must reach past authentication into validation and the actions themselves.
      for (const code of [
        'ok',
        'MissingParameter',
        'InvalidParameter',
        'UnknownParameter',
        'InvalidAction',
        'AuthFailure.SignatureFailure',
        'AuthFailure.SignatureExpire',
      ]) {
        expect(seen).toContain(code);
      }
    },
    fuzzTimeout(90_000),
  );

  it(
    'unflatten + validateParams never throw anything but ApiError',
    () => {
      const schema = {
        A: 'String!',
        B: 'Integer',
        C: 'Tag[]',
        D: 'String[]',
        E: 'RetentionPolicy',
        F: 'Boolean',
      };
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 6 })), { maxLength: 8 }),
          (entries) => {
            try {
              validateParams(schema, unflatten(entries), true);
            } catch (e) {
              expect((e as Error).name).toBe('ApiError');
            }
          },
        ),
        fuzzParameters(7),
      );
    },
    fuzzTimeout(30_000),
  );
});
