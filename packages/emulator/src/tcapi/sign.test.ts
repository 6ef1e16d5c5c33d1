// The worked signature examples of the fact sheet (§2.2 TC3, §2.3 v1) must verify byte for byte, and
// every way a signature can be wrong must yield the exact AuthFailure / MissingParameter code.

import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../test-kit/manual-clock.js';
import { parsedRequest, parseReply } from '../../test-kit/tcapi.js';
import { CmqEngine } from '../cmq/engine.js';
import { createTcApiHandler, type TcApiHandler } from './handler.js';
import { legacySignature, legacySignString } from './sign-legacy.js';
import { canonicalRequest, sha256Hex, stringToSign, tc3Signature } from './sign-tc3.js';

const SECRET_ID = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE';
const SECRET_KEY = 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE';
const TS = 1700000000;
const BODY = '{"Topic":"pulsar-abc123/ns1/topic1","Payload":"hello world"}';
const AUTH_A =
  'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/tdmq/tc3_request, SignedHeaders=content-type;host, Signature=66f3adbaea161c57eb8335bfab0411b73d3a47f7e68389fcde2c33ed8d5ac169';
const AUTH_B =
  'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/127/tc3_request, SignedHeaders=content-type;host, Signature=4a263244b5b63f0abad73e33d424f9e6170d1666ee88e4d3dd735c3cd780de79';

let cmq: CmqEngine | undefined;
afterEach(() => cmq?.close());

function makeHandler(nowSec = TS): TcApiHandler {
  const clock = new ManualClock(nowSec * 1000);
  cmq = new CmqEngine({ clock });
  const handler = createTcApiHandler({
    credentials: [{ secretId: SECRET_ID, secretKey: SECRET_KEY }],
    cmq,
    clock,
    authClock: clock,
    pulsar: { clusterIds: ['pulsar-abc123'] },
  });
  handler.pulsar.createNamespace('pulsar-abc123', 'ns1', 3600, undefined, '');
  handler.pulsar.createTopic('pulsar-abc123', 'ns1', 'topic1', {
    partitions: 2,
    partitioned: true,
    pulsarTopicType: 3,
    topicType: 0,
    remark: '',
    msgTtlSec: undefined,
    ackTimeoutSec: undefined,
  });
  return handler;
}

function tc3Headers(host: string, action: string, auth: string, contentType = 'application/json') {
  return {
    Host: host,
    'X-TC-Action': action,
    'X-TC-Region': 'ap-guangzhou',
    'X-TC-Timestamp': String(TS),
    'X-TC-Version': '2020-02-17',
    'X-TC-RequestClient': 'SDK_NODEJS_4.1.313',
    'Content-Type': contentType,
    Authorization: auth,
  };
}

async function call(handler: TcApiHandler, init: Parameters<typeof parsedRequest>[0]) {
  const reply = await handler.handle(parsedRequest(init));
  expect(reply.status).toBe(200);
  expect(reply.headers?.['content-type']).toBe('application/json');
  return parseReply(reply.body).Response;
}

describe('TC3-HMAC-SHA256 worked examples (fact sheet §2.2)', () => {
  it('A: the key chain and canonical request match the published intermediate values', () => {
    const canonical = canonicalRequest({
      method: 'POST',
      path: '/',
      rawQuery: '',
      headerLines: [
        ['content-type', 'application/json'],
        ['host', 'tdmq.tencentcloudapi.com'],
      ],
      payload: BODY,
    });
    expect(sha256Hex(BODY)).toBe('e545428aec7b125ddb0595f9d813bb10038a61049f21829560ec8afff016bcca');
    expect(sha256Hex(canonical)).toBe('741cceca2a1918e4181fd0b0eb285742b6d8133cffd04fdcc60ff56ed09cc47e');
    const sig = tc3Signature(
      SECRET_KEY,
      '2023-11-14',
      'tdmq',
      stringToSign(String(TS), '2023-11-14', 'tdmq', canonical),
    );
    expect(sig).toBe('66f3adbaea161c57eb8335bfab0411b73d3a47f7e68389fcde2c33ed8d5ac169');
  });

  it('A: POST SendMessages to the real endpoint name verifies and runs', async () => {
    const r = await call(makeHandler(), {
      headers: tc3Headers('tdmq.tencentcloudapi.com', 'SendMessages', AUTH_A),
      body: BODY,
    });
    expect(r.Error).toBeUndefined();
    expect(r.MessageId).toMatch(/^\d+:0:0$/);
    expect(r.ErrorMsg).toBe('');
  });

  it('B: local endpoint with service `127`, Host header carrying the port', async () => {
    const r = await call(makeHandler(), {
      headers: tc3Headers('127.0.0.1:18080', 'SendMessages', AUTH_B),
      body: BODY,
    });
    expect(r.Error).toBeUndefined();
    expect(typeof r.MessageId).toBe('string');
  });

  it('C: empty request body `{}` (real endpoint and local scope with token+language)', async () => {
    const h = makeHandler();
    const auth = (scope: string, sig: string) =>
      `TC3-HMAC-SHA256 Credential=${SECRET_ID}/2023-11-14/${scope}/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`;
    const c1 = await call(h, {
      headers: tc3Headers(
        'tdmq.tencentcloudapi.com',
        'DescribeClusters',
        auth('tdmq', 'f5061273d46a22f380a61a4a47bbb6ac5cc3b4ee209cc174654853fcf1e4ec09'),
      ),
      body: '{}',
    });
    expect(c1.Error).toBeUndefined();
    expect(c1.TotalCount).toBe(2);
    const c2 = await call(h, {
      headers: {
        ...tc3Headers(
          '127.0.0.1:18080',
          'DescribeCmqQueues',
          auth('127', '3c59587da7ae0f1176060d2c8c196e01004b71b4453b131e9769f7369caf3739'),
        ),
        'X-TC-Token': 'some-session-token',
        'X-TC-Language': 'en-US',
      },
      body: '{}',
    });
    expect(c2.Error).toBeUndefined();
    expect(c2.TotalCount).toBe(0);
  });

  it('D: GET with the query signed as sent', async () => {
    const h = makeHandler();
    const d1 = await call(h, {
      method: 'GET',
      query: 'Topic=pulsar-abc123%2Fns1%2Ftopic1&Payload=hello%20world',
      headers: tc3Headers(
        'tdmq.tencentcloudapi.com',
        'SendMessages',
        `TC3-HMAC-SHA256 Credential=${SECRET_ID}/2023-11-14/tdmq/tc3_request, SignedHeaders=content-type;host, Signature=88789e78245e06391315c4aafa8b826ccf03af995b52e9956b892e1922fb3dcf`,
        'application/x-www-form-urlencoded',
      ),
    });
    expect(d1.Error).toBeUndefined();
    expect(d1.MessageId).toMatch(/^\d+:\d+:\d$/);
    const d2 = await call(h, {
      method: 'GET',
      query: 'Limit=10&QueueNameList.0=a&QueueNameList.1=b',
      headers: tc3Headers(
        '127.0.0.1:18080',
        'DescribeCmqQueues',
        `TC3-HMAC-SHA256 Credential=${SECRET_ID}/2023-11-14/127/tc3_request, SignedHeaders=content-type;host, Signature=1c046357a08b827e268599c11dc5669eb999ca394bb143572443e5b722031a45`,
        'application/x-www-form-urlencoded',
      ),
    });
    expect(d2.Error).toBeUndefined();
    expect(d2.QueueList).toEqual([]);
  });

  it("E: Tencent's published CVM vector verifies (then fails on the version, not the signature)", async () => {
    const clock = new ManualClock(1551113065 * 1000);
    cmq = new CmqEngine({ clock });
    const h = createTcApiHandler({
      credentials: [{ secretId: SECRET_ID, secretKey: SECRET_KEY }],
      cmq,
      clock,
      authClock: clock,
    });
    const r = await call(h, {
      headers: {
        Host: 'cvm.tencentcloudapi.com',
        'X-TC-Action': 'DescribeInstances',
        'X-TC-Timestamp': '1551113065',
        'X-TC-Version': '2017-03-12',
        'X-TC-Region': 'ap-guangzhou',
        'Content-Type': 'application/json; charset=utf-8',
        Authorization: `TC3-HMAC-SHA256 Credential=${SECRET_ID}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168`,
      },
      body: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
    });
    expect(r.Error?.Code).toBe('NoSuchVersion');
  });
});

describe('TC3 rejections', () => {
  const good = () => ({
    headers: tc3Headers('tdmq.tencentcloudapi.com', 'SendMessages', AUTH_A),
    body: BODY,
  });

  it.each([
    ['expired timestamp (server 301 s ahead)', TS + 301, good(), 'AuthFailure.SignatureExpire'],
    ['expired timestamp (server 301 s behind)', TS - 301, good(), 'AuthFailure.SignatureExpire'],
    [
      'unknown SecretId',
      TS,
      { ...good(), headers: { ...good().headers, Authorization: AUTH_A.replace('AKIDz8', 'AKIDx8') } },
      'AuthFailure.SecretIdNotFound',
    ],
    [
      'bad signature',
      TS,
      { ...good(), headers: { ...good().headers, Authorization: AUTH_A.replace('66f3ad', '66f3ae') } },
      'AuthFailure.SignatureFailure',
    ],
    [
      'body changed after signing',
      TS,
      { ...good(), body: BODY.replace('hello', 'hullo') },
      'AuthFailure.SignatureFailure',
    ],
    [
      'host changed',
      TS,
      { ...good(), headers: { ...good().headers, Host: 'cvm.tencentcloudapi.com' } },
      'AuthFailure.SignatureFailure',
    ],
    [
      'malformed Authorization',
      TS,
      { ...good(), headers: { ...good().headers, Authorization: 'TC3-HMAC-SHA256 nonsense' } },
      'AuthFailure.InvalidAuthorization',
    ],
    [
      'Authorization: SKIP',
      TS,
      { ...good(), headers: { ...good().headers, Authorization: 'SKIP' } },
      'AuthFailure.InvalidAuthorization',
    ],
  ])('%s → %s', async (_name, now, init, code) => {
    const r = await call(makeHandler(now), init);
    expect(r.Error?.Code).toBe(code);
    expect(typeof r.RequestId).toBe('string');
  });

  it.each([
    ['X-TC-Action', 'Action'],
    ['X-TC-Version', 'Version'],
    ['X-TC-Timestamp', 'Timestamp'],
  ])('missing %s → MissingParameter', async (hdr, name) => {
    const headers: Record<string, string> = { ...good().headers };
    delete headers[hdr];
    const r = await call(makeHandler(), { headers, body: BODY });
    expect(r.Error).toEqual({
      Code: 'MissingParameter',
      Message: `The request is missing a required parameter \`${name}\`.`,
    });
  });

  it('unknown version → NoSuchVersion, unknown action → InvalidAction, no region → MissingParameter', async () => {
    const h = makeHandler();
    const signed = (action: string, version: string, region?: string) => {
      const canonical = canonicalRequest({
        method: 'POST',
        path: '/',
        rawQuery: '',
        headerLines: [
          ['content-type', 'application/json'],
          ['host', 'tdmq.tencentcloudapi.com'],
        ],
        payload: '{}',
      });
      const sig = tc3Signature(
        SECRET_KEY,
        '2023-11-14',
        'tdmq',
        stringToSign(String(TS), '2023-11-14', 'tdmq', canonical),
      );
      const headers: Record<string, string> = {
        ...tc3Headers(
          'tdmq.tencentcloudapi.com',
          action,
          `TC3-HMAC-SHA256 Credential=${SECRET_ID}/2023-11-14/tdmq/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`,
        ),
        'X-TC-Version': version,
      };
      if (region === undefined) delete headers['X-TC-Region'];
      return { headers, body: '{}' };
    };
    expect((await call(h, signed('DescribeClusters', '2018-03-17', 'ap-guangzhou'))).Error?.Code).toBe(
      'NoSuchVersion',
    );
    expect((await call(h, signed('NoSuchThing', '2020-02-17', 'ap-guangzhou'))).Error?.Code).toBe(
      'InvalidAction',
    );
    expect((await call(h, signed('DescribeClusters', '2020-02-17'))).Error).toEqual({
      Code: 'MissingParameter',
      Message: 'The request is missing a required parameter `Region`.',
    });
    expect((await call(h, signed('DescribeClusters', '2020-02-17', 'ap-guangzhou'))).Error).toBeUndefined();
  });
});

describe('legacy v1 signatures (fact sheet §2.3)', () => {
  const base = {
    Action: 'CreateCmqQueue',
    Nonce: '11886',
    QueueName: 'q1',
    Region: 'ap-guangzhou',
    RequestClient: 'SDK_NODEJS_4.1.313',
    SecretId: SECRET_ID,
    'Tags.0.TagKey': 'env',
    'Tags.0.TagValue': 'test',
    Timestamp: String(TS),
    Version: '2020-02-17',
  };

  it.each([
    ['HmacSHA256', 'b+36xKAAuoWEmR0kwtwoLoFBHpC1xaYdT0vvPBA1bnI='],
    ['HmacSHA1', 'Ir5yHmw/ZhjNIc6FjPyMffnq+XA='],
  ] as const)(
    '%s example: sign string and signature match, and the request verifies',
    async (method, expected) => {
      const params = new Map(Object.entries({ ...base, SignatureMethod: method }));
      const signString = legacySignString('POST', 'tdmq.tencentcloudapi.com', '/', params);
      expect(signString).toBe(
        `POSTtdmq.tencentcloudapi.com/?Action=CreateCmqQueue&Nonce=11886&QueueName=q1&Region=ap-guangzhou&RequestClient=SDK_NODEJS_4.1.313&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=${method}&Tags.0.TagKey=env&Tags.0.TagValue=test&Timestamp=1700000000&Version=2020-02-17`,
      );
      expect(legacySignature(SECRET_KEY, signString, method)).toBe(expected);
      const form = new URLSearchParams({ ...base, SignatureMethod: method, Signature: expected }).toString();
      const h = makeHandler();
      const r = await call(h, {
        headers: { Host: 'tdmq.tencentcloudapi.com', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form,
      });
      expect(r.Error).toBeUndefined();
      expect(typeof r.QueueId).toBe('string');
      // The very same bytes again are a replay (same Nonce, Timestamp and Signature)...
      const headers = {
        Host: 'tdmq.tencentcloudapi.com',
        'Content-Type': 'application/x-www-form-urlencoded',
      };
      const replayed = await call(h, { headers, body: form });
      expect(replayed.Error?.Code).toBe('AuthFailure.SignatureExpire');
      expect(replayed.Error?.Message).toMatch(/replayed/);
      // ...while the same call with a new Nonce is a duplicate queue, proving the first one really ran.
      const fresh = new Map(Object.entries({ ...base, Nonce: '11887', SignatureMethod: method }));
      const again = await call(h, {
        headers,
        body: new URLSearchParams({
          ...Object.fromEntries(fresh),
          Signature: legacySignature(
            SECRET_KEY,
            legacySignString('POST', 'tdmq.tencentcloudapi.com', '/', fresh),
            method,
          ),
        }).toString(),
      });
      expect(again.Error?.Code).toBe('ResourceInUse.Queue');
    },
  );

  it('rejects a tampered value, an unknown key, an old timestamp and a missing Action', async () => {
    const form = (over: Record<string, string>) =>
      new URLSearchParams({
        ...base,
        SignatureMethod: 'HmacSHA256',
        Signature: 'b+36xKAAuoWEmR0kwtwoLoFBHpC1xaYdT0vvPBA1bnI=',
        ...over,
      }).toString();
    const post = (body: string, now = TS) =>
      call(makeHandler(now), {
        headers: { Host: 'tdmq.tencentcloudapi.com', 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
      });
    expect((await post(form({ QueueName: 'q2' }))).Error?.Code).toBe('AuthFailure.SignatureFailure');
    expect((await post(form({ SecretId: 'AKIDnope' }))).Error?.Code).toBe('AuthFailure.SecretIdNotFound');
    expect((await post(form({}), TS + 400)).Error?.Code).toBe('AuthFailure.SignatureExpire');
    const noAction = new URLSearchParams(form({}));
    noAction.delete('Action');
    expect((await post(noAction.toString())).Error?.Code).toBe('MissingParameter');
    // The signed host includes the port for v1: a different port is a different signature.
    const r = await call(makeHandler(), {
      headers: { Host: 'tdmq.tencentcloudapi.com:8080', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form({}),
    });
    expect(r.Error?.Code).toBe('AuthFailure.SignatureFailure');
  });
});
