import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CmqTestServer, startCmqTestServer, TEST_CREDENTIAL } from '../../test-kit/cmq.js';
import { ManualClock } from '../../test-kit/manual-clock.js';
import { Faults } from '../faults/injector.js';
import { createProtocolServer, type ProtocolServer } from '../server/protocol-server.js';
import { CmqEngine } from './engine.js';
import { CmqHandler } from './handler.js';
import { sign, stringToSign } from './signature.js';

// Inputs and expected values are copied from protocols/cmq.md §3.1.
const KEY = 'MySecretKey0123456789abcdefABCDEF';
const ID = 'AKIDexampleid000000000000000000000000';
const HOST = '127.0.0.1:9100';
const common = (extra: Array<[string, string]>): Array<[string, string]> => [
  ['SecretId', ID],
  ['Timestamp', '1700000000'],
  ...extra,
];

describe('worked signature examples', () => {
  it('(0) reproduces the official doc example', () => {
    const text =
      'POSTcmq-queue-gz.api.tencentyun.com/v2/index.php?Action=SendMessage&Nonce=2889712707386595659&RequestClient=SDK_Python_1.3&SecretId=AKIDPcYDclDJCn8D0Xypa4f3pKYUCVYLn3zT&SignatureMethod=HmacSHA1&Timestamp=1534154812&clientRequestId=1231231231&delaySeconds=0&msgBody=msg&queueName=test1';
    expect(sign(text, 'pPgfLipfEXZ7VcRzhAMIyPaU7UbQyFFx', 'HmacSHA1')).toBe('C16WEtEXsD5v5tnaUMLAbZewXhI=');
    const params = new URLSearchParams(text.slice(text.indexOf('?') + 1));
    expect(
      stringToSign({
        method: 'post',
        host: 'cmq-queue-gz.api.tencentyun.com',
        path: '/v2/index.php',
        params: [...params].reverse(),
      }),
    ).toBe(text);
  });

  const exampleA: Array<[string, string]> = [
    ['queueName', 'test-queue'],
    ['msgBody', 'hello world & ü=1+2'],
    ['Action', 'SendMessage'],
    ['Nonce', '1234567890'],
    ['RequestClient', 'SDK_Python_1.3'],
    ['delaySeconds', '0'],
  ];

  it('(A) SendMessage with HmacSHA256 and raw values', () => {
    const text = stringToSign({
      method: 'POST',
      host: HOST,
      path: '/v2/index.php',
      params: common([...exampleA, ['SignatureMethod', 'HmacSHA256']]),
    });
    expect(text).toBe(
      'POST127.0.0.1:9100/v2/index.php?Action=SendMessage&Nonce=1234567890&RequestClient=SDK_Python_1.3&SecretId=AKIDexampleid000000000000000000000000&SignatureMethod=HmacSHA256&Timestamp=1700000000&delaySeconds=0&msgBody=hello world & ü=1+2&queueName=test-queue',
    );
    expect(sign(text, KEY, 'HmacSHA256')).toBe('4AjTYZ0JQFD3+BbTqv9LYKyGmkaRk72/Xw9LhjTk/Yg=');
  });

  it('(B) the same with HmacSHA1', () => {
    const text = stringToSign({
      method: 'POST',
      host: HOST,
      path: '/v2/index.php',
      params: common([...exampleA, ['SignatureMethod', 'HmacSHA1']]),
    });
    expect(sign(text, KEY, 'HmacSHA1')).toBe('qX0lnXLtSXrR39atofnFWRoE9zU=');
  });

  it('(C) upper-case UserpollingWaitSeconds sorts before lower-case names', () => {
    const text = stringToSign({
      method: 'POST',
      host: HOST,
      path: '/v2/index.php',
      params: common([
        ['queueName', 'test-queue'],
        ['pollingWaitSeconds', '5'],
        ['numOfMsg', '16'],
        ['UserpollingWaitSeconds', '5'],
        ['Action', 'BatchReceiveMessage'],
        ['Nonce', '42'],
        ['RequestClient', 'SDK_Python_1.3'],
        ['SignatureMethod', 'HmacSHA1'],
      ]),
    });
    expect(text).toBe(
      'POST127.0.0.1:9100/v2/index.php?Action=BatchReceiveMessage&Nonce=42&RequestClient=SDK_Python_1.3&SecretId=AKIDexampleid000000000000000000000000&SignatureMethod=HmacSHA1&Timestamp=1700000000&UserpollingWaitSeconds=5&numOfMsg=16&pollingWaitSeconds=5&queueName=test-queue',
    );
    expect(sign(text, KEY, 'HmacSHA1')).toBe('GzNatD4E8QWDKBdW9totMIP6Aq8=');
  });

  it('(D) msgBody.10 sorts before msgBody.2, path /', () => {
    const bodies = Array.from({ length: 11 }, (_, i): [string, string] => [`msgBody.${i + 1}`, `m${i + 1}`]);
    const text = stringToSign({
      method: 'POST',
      host: HOST,
      path: '/',
      params: common([
        ['Action', 'BatchSendMessage'],
        ['Nonce', '7'],
        ['RequestClient', 'SDK_GO_1.2.0'],
        ['SignatureMethod', 'HmacSHA256'],
        ['delaySeconds', '0'],
        ['queueName', 'q1'],
        ...bodies,
      ]),
    });
    expect(sign(text, KEY, 'HmacSHA256')).toBe('Gtz6l9crUhKwMgA0E1QurCqoh9tegWSxrFtWpIKoL70=');
  });

  it('(E) underscores in names are signed as dots, sorted by the original name', () => {
    const text = stringToSign({
      method: 'POST',
      host: 'h',
      path: '/',
      params: [
        ['my_param', 'v'],
        ['myZ', 'z'],
      ],
    });
    expect(text).toBe('POSTh/?myZ=z&my.param=v');
  });
});

// Sends the sheet's exact bytes to a server listening where the examples were signed for: the
// Host header is forced to 127.0.0.1:9100 whatever port the test server got.
function post(
  url: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      target,
      { method: 'POST', headers: { host: HOST, ...headers }, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('signature verification over HTTP (sheet examples)', () => {
  let server: ProtocolServer;
  let engine: CmqEngine;
  beforeAll(async () => {
    const clock = new ManualClock(1_700_000_000_000);
    engine = new CmqEngine({ clock });
    engine.createQueue('test-queue');
    engine.createQueue('q1');
    const handler = new CmqHandler({
      engine,
      credentials: [{ secretId: ID, secretKey: KEY }, TEST_CREDENTIAL],
    });
    server = await createProtocolServer(handler, {
      host: '127.0.0.1',
      port: 0,
      faults: new Faults(),
      inspect: () => ({}),
    });
  });
  afterAll(async () => {
    engine.close();
    await server.close();
  });

  it('accepts example A exactly as the Python SDK encodes it, with no content type', async () => {
    const body =
      'Action=SendMessage&Nonce=1234567890&RequestClient=SDK_Python_1.3&SecretId=AKIDexampleid000000000000000000000000&SignatureMethod=HmacSHA256&Timestamp=1700000000&delaySeconds=0&msgBody=hello+world+%26+%C3%BC%3D1%2B2&queueName=test-queue&Signature=4AjTYZ0JQFD3%2BBbTqv9LYKyGmkaRk72%2FXw9LhjTk%2FYg%3D';
    const reply = await post(server.url, '/v2/index.php', body);
    expect(reply).toMatchObject({ code: 0, message: '' });
    expect(typeof reply.msgId).toBe('string');
    const [message] = await engine.receiveMessages('test-queue');
    expect(message?.msgBody).toBe('hello world & ü=1+2');
  });

  it('accepts example B (HmacSHA1) with %20 spaces and a form content type', async () => {
    const body =
      'Action=SendMessage&Nonce=1234567890&RequestClient=SDK_Python_1.3&SecretId=AKIDexampleid000000000000000000000000&SignatureMethod=HmacSHA1&Timestamp=1700000000&delaySeconds=0&msgBody=hello%20world%20%26%20%C3%BC%3D1%2B2&queueName=test-queue&Signature=qX0lnXLtSXrR39atofnFWRoE9zU%3D';
    const reply = await post(server.url, '/v2/index.php', body, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(reply.code).toBe(0);
  });

  it('accepts example D on path / and example C (which then finds no message)', async () => {
    const bodies = Array.from({ length: 11 }, (_, i) => `msgBody.${i + 1}=m${i + 1}`).join('&');
    const d = await post(
      server.url,
      '/',
      `Action=BatchSendMessage&Nonce=7&RequestClient=SDK_GO_1.2.0&SecretId=${ID}&SignatureMethod=HmacSHA256&Timestamp=1700000000&delaySeconds=0&queueName=q1&${bodies}&Signature=${encodeURIComponent('Gtz6l9crUhKwMgA0E1QurCqoh9tegWSxrFtWpIKoL70=')}`,
      { 'content-type': '*/*;charset=utf-8' },
    );
    expect(d.code).toBe(0);
    expect((d.msgList as unknown[]).length).toBe(11);
    // Example C names test-queue with a 5 s wait; the queue has a message from example B.
    const c = await post(
      server.url,
      '/v2/index.php',
      `Action=BatchReceiveMessage&Nonce=42&RequestClient=SDK_Python_1.3&SecretId=${ID}&SignatureMethod=HmacSHA1&Timestamp=1700000000&UserpollingWaitSeconds=5&numOfMsg=16&pollingWaitSeconds=5&queueName=test-queue&Signature=${encodeURIComponent('GzNatD4E8QWDKBdW9totMIP6Aq8=')}`,
    );
    expect(c.code).toBe(0);
    expect((c.msgInfoList as unknown[]).length).toBe(1);
  });

  it('rejects example A when the signed path differs from the requested one', async () => {
    const body =
      'Action=SendMessage&Nonce=1234567890&RequestClient=SDK_Python_1.3&SecretId=AKIDexampleid000000000000000000000000&SignatureMethod=HmacSHA256&Timestamp=1700000000&delaySeconds=0&msgBody=hello+world+%26+%C3%BC%3D1%2B2&queueName=test-queue&Signature=4AjTYZ0JQFD3%2BBbTqv9LYKyGmkaRk72%2FXw9LhjTk%2FYg%3D';
    expect(await post(server.url, '/', body)).toMatchObject({
      code: 4100,
      message: '(10030)authentication failed',
    });
  });
});

describe('authentication failures', () => {
  let t: CmqTestServer;
  beforeAll(async () => {
    t = await startCmqTestServer();
    await t.client.ok('CreateQueue', { queueName: 'auth-q' });
  });
  afterAll(() => t.close());

  it('rejects a wrong signature with 4100 (10030)', async () => {
    const reply = await t.client.call(
      'SendMessage',
      { queueName: 'auth-q', msgBody: 'x' },
      {
        tamper: (p) => p.map(([k, v]) => [k, k === 'msgBody' ? 'y' : v]),
      },
    );
    expect(reply).toMatchObject({ code: 4100, message: '(10030)authentication failed' });
    expect(typeof reply.requestId).toBe('string');
  });

  it('rejects a signature made with another key', async () => {
    const reply = await t.client.call(
      'ListQueue',
      {},
      { credential: { secretId: TEST_CREDENTIAL.secretId, secretKey: 'nope' } },
    );
    expect(reply.code).toBe(4100);
  });

  it('accepts every configured credential, HmacSHA1 and HmacSHA256, GET and POST', async () => {
    await t.client.ok('ListQueue', {}, { credential: { secretId: 'AKIDsecond', secretKey: 'second-key' } });
    await t.client.ok('ListQueue', {}, { signatureMethod: 'HmacSHA1', method: 'GET' });
    await t.client.ok('ListQueue', {}, { contentType: null, path: '/' });
  });

  it('rejects an expired or future timestamp with 4500', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const timestamp of [now - 301, now + 301]) {
      const reply = await t.client.call('ListQueue', {}, { timestamp });
      expect(reply.code).toBe(4500);
      expect(reply.message).toMatch(/^\(\d+\)/);
    }
    await t.client.ok('ListQueue', {}, { timestamp: now - 250 });
  });

  it('rejects an unknown AKID key with 4100 (10270) and a non-AKID key with 4000 (10450)', async () => {
    expect(
      await t.client.call('ListQueue', {}, { credential: { secretId: 'AKIDunknown', secretKey: 'k' } }),
    ).toMatchObject({
      code: 4100,
      message: '(10270)secret id is not existed',
    });
    expect(
      await t.client.call('ListQueue', {}, { credential: { secretId: 'XYZ', secretKey: 'k' } }),
    ).toMatchObject({
      code: 4000,
      message: "(10450)secret id doesn't begin with AKID",
    });
  });

  it.each(['SecretId', 'Signature', 'Timestamp', 'Nonce', 'Action'])(
    'rejects a request without %s (10390)',
    async (name) => {
      const reply = await t.client.call('ListQueue', {}, { tamper: (p) => p.filter(([k]) => k !== name) });
      expect(reply).toMatchObject({ code: 4000, message: `(10390)lacked of required parameter ${name}` });
    },
  );

  it('rejects a non-numeric Timestamp (10360) and a repeated parameter (10330)', async () => {
    expect(
      await t.client.call(
        'ListQueue',
        {},
        { tamper: (p) => p.map(([k, v]) => [k, k === 'Timestamp' ? 'soon' : v]) },
      ),
    ).toMatchObject({ code: 4000, message: '(10360)parameter Timestamp error type' });
    expect(await t.client.call('ListQueue', {}, { tamper: (p) => [...p, ['Nonce', '9']] })).toMatchObject({
      code: 4000,
      message: '(10330)parameter Nonce is NOT a repeatable parameter',
    });
  });

  it('accepts the @-value variant the Python SDK signs for POST (the @ value left out of the signature)', async () => {
    // Signed without msgBody, then msgBody=@file added: what the Python/PHP SDKs put on the wire.
    const reply = await t.client.call(
      'SendMessage',
      { queueName: 'auth-q' },
      {
        tamper: (p) => [...p, ['msgBody', '@file']],
      },
    );
    expect(reply.code).toBe(0);
    const plain = await t.client.call(
      'SendMessage',
      { queueName: 'auth-q' },
      { tamper: (p) => [...p, ['msgBody', 'file']] },
    );
    expect(plain.code).toBe(4100);
  });
});
