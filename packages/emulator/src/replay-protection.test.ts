// Request authentication over real sockets on every protocol of a started emulator: a valid
// request is accepted; a wrong signature, an unknown key, a timestamp too old or too far in the
// future are refused with each protocol's own code; an exact replay inside the window is refused
// where the protocol carries a nonce (CMQ, the API's v1 signature) and accepted where it does not
// (TC3, RocketMQ — as the real services do). Clients: the CMQ test client (signs like the SDKs),
// the real tencentcloud-sdk-nodejs, and the real rocketmq-client-nodejs.

import { Producer } from 'rocketmq-client-nodejs';
import { afterEach, describe, expect, it } from 'vitest';
import { CmqTestClient } from '../test-kit/cmq.js';
import { quietLogger, rawClient, shutdownsArrived } from '../test-kit/rocketmq.js';
import { makeClient, sdk } from '../test-kit/tcapi.js';
import type { Credential } from './contracts.js';
import { signature as rocketSignature } from './rocketmq/auth.js';
import { DEFAULT_REPLAY_MEMORY_SECONDS, ReplayGuard } from './server/replay-guard.js';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from './start.js';
import { legacySignature, legacySignString } from './tcapi/sign-legacy.js';
import { canonicalRequest, stringToSign, tc3Signature, utcDate } from './tcapi/sign-tc3.js';

const CRED: Credential = { secretId: 'AKIDREPLAY', secretKey: 'replay-secret-key' };
const running: RunningEmulator[] = [];
const clients: { shutdown(): Promise<unknown> }[] = [];

afterEach(async () => {
  await Promise.all(clients.map((c) => c.shutdown().catch(() => undefined)));
  if (clients.length > 0) await Promise.all(running.map((e) => shutdownsArrived(e)));
  clients.length = 0;
  await Promise.all(running.map((e) => e.stop()));
  running.length = 0;
});

async function emulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const e = await startEmulator({ credentials: [CRED], ...options });
  running.push(e);
  return e;
}

const nowSec = () => Math.floor(Date.now() / 1000);

describe('CMQ', () => {
  function client(e: RunningEmulator) {
    return new CmqTestClient(e.endpoints.cmq);
  }

  it('accepts a valid request; refuses wrong signature, unknown key, old and future Timestamp', async () => {
    const e = await emulator();
    const c = client(e);
    expect(await c.call('ListQueue', {}, { credential: CRED })).toMatchObject({ code: 0 });
    expect(
      await c.call('ListQueue', {}, { credential: { secretId: CRED.secretId, secretKey: 'wrong' } }),
    ).toMatchObject({ code: 4100, message: '(10030)authentication failed' });
    expect(
      await c.call('ListQueue', {}, { credential: { secretId: 'AKIDnobody', secretKey: CRED.secretKey } }),
    ).toMatchObject({ code: 4100, message: '(10270)secret id is not existed' });
    for (const timestamp of [nowSec() - 305, nowSec() + 305]) {
      const reply = await c.call('ListQueue', {}, { credential: CRED, timestamp });
      expect(reply.code).toBe(4500);
      expect(reply.message).toMatch(
        /^\(10100\)request is expired: Timestamp \d+ differs from the server time/,
      );
    }
    // Inside the window on either side is fine.
    for (const timestamp of [nowSec() - 250, nowSec() + 250]) {
      expect(await c.call('ListQueue', {}, { credential: CRED, timestamp })).toMatchObject({ code: 0 });
    }
  });

  it('refuses an exact replay with 4500, however re-encoded; a re-signed retry is accepted', async () => {
    const e = await emulator();
    e.engines.cmq.createQueue('rq');
    const c = client(e);
    let signed: Array<[string, string]> = [];
    const first = await c.call(
      'SendMessage',
      { queueName: 'rq', msgBody: 'hello world' },
      {
        credential: CRED,
        tamper: (p) => {
          signed = p;
          return p;
        },
      },
    );
    expect(first.code).toBe(0);
    const url = new URL('/v2/index.php', e.endpoints.cmq);
    const post = async (body: string) =>
      (await (
        await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        })
      ).json()) as { code: number; message: string };
    const form = new URLSearchParams(signed).toString();
    const replay = await post(form);
    expect(replay).toMatchObject({
      code: 4500,
      message:
        '(10100)request is replayed: this Nonce and Timestamp were already used (every request needs a new Nonce)',
    });
    // `%20` instead of `+` is the same request to the signature, so still a replay.
    expect((await post(form.replaceAll('+', '%20'))).code).toBe(4500);
    // The replays had no effect: one message in the queue.
    expect(e.engines.cmq.inspect()).toMatchObject({ queues: [{ queueName: 'rq', activeMsgNum: 1 }] });
    // A retry signed afresh (new Nonce) goes through.
    expect(
      await c.call('SendMessage', { queueName: 'rq', msgBody: 'hello world' }, { credential: CRED }),
    ).toMatchObject({ code: 0 });
  });

  it('window, replay check and clock offset are configurable', async () => {
    const narrow = client(await emulator({ auth: { timestampWindowSeconds: 10 } }));
    expect((await narrow.call('ListQueue', {}, { credential: CRED, timestamp: nowSec() - 15 })).code).toBe(
      4500,
    );
    expect((await narrow.call('ListQueue', {}, { credential: CRED, timestamp: nowSec() - 5 })).code).toBe(0);

    // A server clock 400 s ahead sees fresh requests as 400 s old.
    const ahead = client(await emulator({ auth: { clockOffsetMs: 400_000 } }));
    expect((await ahead.call('ListQueue', {}, { credential: CRED })).code).toBe(4500);
    expect((await ahead.call('ListQueue', {}, { credential: CRED, timestamp: nowSec() + 400 })).code).toBe(0);

    const lenient = await emulator({ auth: { replayProtection: false } });
    let signed: Array<[string, string]> = [];
    await client(lenient).ok(
      'ListQueue',
      {},
      {
        credential: CRED,
        tamper: (p) => {
          signed = p;
          return p;
        },
      },
    );
    const again = await fetch(new URL('/v2/index.php', lenient.endpoints.cmq), {
      method: 'POST',
      body: new URLSearchParams(signed).toString(),
    });
    expect(((await again.json()) as { code: number }).code).toBe(0);
  });
});

describe('Tencent Cloud API', () => {
  const rejection = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => error as { code?: string; message: string },
    );

  function sdkClient(e: RunningEmulator, over: { secretId?: string; secretKey?: string } = {}) {
    return makeClient(new URL(e.endpoints.api).host, CRED, over);
  }

  it('the real SDK: accepted; wrong signature, unknown key, old and future X-TC-Timestamp refused', async () => {
    const e = await emulator();
    await expect(sdkClient(e).DescribeClusters({})).resolves.toMatchObject({ RequestId: expect.any(String) });
    await expect(sdkClient(e, { secretId: CRED.secretId }).DescribeCmqQueues({})).resolves.toBeDefined();
    expect((await rejection(sdkClient(e, { secretKey: 'wrong' }).DescribeClusters({}))).code).toBe(
      'AuthFailure.SignatureFailure',
    );
    expect((await rejection(sdkClient(e, { secretId: 'AKIDnobody' }).DescribeClusters({}))).code).toBe(
      'AuthFailure.SecretIdNotFound',
    );
    // The SDK stamps the real time: a server 305 s ahead sees it too old, 305 s behind too new
    // (a few seconds past the edge: timestamps are whole seconds).
    for (const clockOffsetMs of [305_000, -305_000]) {
      const skewed = await emulator({ auth: { clockOffsetMs } });
      const error = await rejection(sdkClient(skewed).DescribeClusters({}));
      expect(error).toBeInstanceOf(sdk.TencentCloudSDKHttpException);
      expect(error.code).toBe('AuthFailure.SignatureExpire');
      expect(error.message).toMatch(/by more than 300 seconds/);
    }
    // ... and inside the window it works.
    const near = await emulator({ auth: { clockOffsetMs: 250_000 } });
    await expect(sdkClient(near).DescribeClusters({})).resolves.toBeDefined();
  });

  it('the real SDK with the v1 signature works call after call (fresh Nonce each time)', async () => {
    const e = await emulator();
    const v1 = makeClient(new URL(e.endpoints.api).host, CRED, { signMethod: 'HmacSHA256' });
    for (let i = 0; i < 20; i++) await expect(v1.DescribeCmqQueues({})).resolves.toBeDefined();
    const sha1 = makeClient(new URL(e.endpoints.api).host, CRED, { signMethod: 'HmacSHA1' });
    await expect(sha1.DescribeCmqQueues({})).resolves.toBeDefined();
  });

  it('v1: an exact replay inside the window is refused; TC3: an identical request is accepted', async () => {
    const e = await emulator();
    const url = new URL(e.endpoints.api);
    const ts = String(nowSec());
    const v1 = new Map([
      ['Action', 'DescribeCmqQueues'],
      ['Version', '2020-02-17'],
      ['Region', 'ap-guangzhou'],
      ['Timestamp', ts],
      ['Nonce', '4242'],
      ['SecretId', CRED.secretId],
      ['SignatureMethod', 'HmacSHA256'],
    ]);
    v1.set(
      'Signature',
      legacySignature(CRED.secretKey, legacySignString('POST', url.host, '/', v1), 'HmacSHA256'),
    );
    const postForm = async () =>
      (
        (await (
          await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams([...v1]).toString(),
          })
        ).json()) as { Response: { Error?: { Code: string; Message: string } } }
      ).Response;
    expect((await postForm()).Error).toBeUndefined();
    expect((await postForm()).Error).toEqual({
      Code: 'AuthFailure.SignatureExpire',
      Message:
        'Request replayed. The Nonce and Timestamp of this request were already used; every request needs a new Nonce.',
    });

    // TC3 has no nonce: Tencent accepts the same signed request again inside the window.
    const body = '{}';
    const date = utcDate(Number(ts));
    const canonical = canonicalRequest({
      method: 'POST',
      path: '/',
      rawQuery: '',
      headerLines: [
        ['content-type', 'application/json'],
        ['host', url.hostname],
      ],
      payload: body,
    });
    const sig = tc3Signature(CRED.secretKey, date, '127', stringToSign(ts, date, '127', canonical));
    const postTc3 = async () =>
      (
        (await (
          await fetch(url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-tc-action': 'DescribeCmqQueues',
              'x-tc-version': '2020-02-17',
              'x-tc-timestamp': ts,
              'x-tc-region': 'ap-guangzhou',
              authorization: `TC3-HMAC-SHA256 Credential=${CRED.secretId}/${date}/127/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`,
            },
            body,
          })
        ).json()) as { Response: { Error?: unknown } }
      ).Response;
    expect((await postTc3()).Error).toBeUndefined();
    expect((await postTc3()).Error).toBeUndefined();
  });
});

describe('RocketMQ', () => {
  function dateTime(ms: number): string {
    return new Date(ms)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
  }
  function authHeaders(credential: Credential, atMs = Date.now()) {
    const date = dateTime(atMs);
    return {
      'x-mq-date-time': date,
      authorization: `MQv2-HMAC-SHA1 Credential=${credential.secretId}, SignedHeaders=x-mq-date-time, Signature=${rocketSignature(credential.secretKey, date)}`,
    };
  }
  const queryRoute = async (e: RunningEmulator, headers: Record<string, string>) => {
    const raw = rawClient(e.endpoints.rocketmq, headers);
    try {
      return (await raw.unary('QueryRoute', { topic: { name: 'RT' } })).status as {
        code: string;
        message: string;
      };
    } finally {
      raw.close();
    }
  };

  it('the real client: accepted; wrong secret, unknown key, old and future date refused (40100)', async () => {
    const e = await emulator();
    const producer = (credential: Credential, em = e) => {
      const p = new Producer({
        endpoints: em.endpoints.rocketmq,
        namespace: '',
        sessionCredentials: { accessKey: credential.secretId, accessSecret: credential.secretKey },
        logger: quietLogger,
        requestTimeout: 3000,
      });
      clients.push(p);
      return p;
    };
    const good = producer(CRED);
    await good.startup();
    await expect(good.send({ topic: 'RT', body: Buffer.from('x') })).resolves.toMatchObject({
      messageId: expect.any(String),
    });
    for (const credential of [
      { secretId: CRED.secretId, secretKey: 'wrong' },
      { secretId: 'AKIDnobody', secretKey: CRED.secretKey },
    ]) {
      const bad = producer(credential);
      await bad.startup();
      await expect(bad.send({ topic: 'RT', body: Buffer.from('x') })).rejects.toMatchObject({
        name: 'UnauthorizedException',
        code: 40100,
      });
    }
    // The client stamps the real time: a server 905 s ahead sees it too old, 905 s behind too new.
    for (const clockOffsetMs of [905_000, -905_000]) {
      const skewed = await emulator({ auth: { clockOffsetMs } });
      const p = producer(CRED, skewed);
      await p.startup();
      await expect(p.send({ topic: 'RT', body: Buffer.from('x') })).rejects.toMatchObject({
        name: 'UnauthorizedException',
        code: 40100,
        message: expect.stringMatching(/outside the allowed window/),
      });
    }
  });

  it('raw metadata: the date window both ways, configurable; identical metadata inside it is accepted', async () => {
    const e = await emulator({ auth: { timestampWindowSeconds: 60 } });
    expect((await queryRoute(e, authHeaders(CRED))).code).toBe('OK');
    for (const at of [Date.now() - 65_000, Date.now() + 65_000]) {
      expect(await queryRoute(e, authHeaders(CRED, at))).toEqual({
        code: 'UNAUTHORIZED',
        message: 'x-mq-date-time is outside the allowed window',
      });
    }
    // The signature covers only x-mq-date-time (no nonce): every call of a second carries the same
    // metadata, so a copy inside the window cannot be told from the client's next call.
    const same = authHeaders(CRED);
    expect((await queryRoute(e, same)).code).toBe('OK');
    expect((await queryRoute(e, same)).code).toBe('OK');
    expect(
      (
        await queryRoute(e, {
          ...same,
          authorization: same.authorization.replace(/Signature=\w+/, 'Signature=00'),
        })
      ).code,
    ).toBe('UNAUTHORIZED');
  });
});

describe('ReplayGuard', () => {
  it('remembers a key until its timestamp leaves the window, and stays bounded', () => {
    const g = new ReplayGuard({ windowSeconds: 300, maxEntries: 3 });
    const t = 1_700_000_000;
    expect(g.remember('a', t, t * 1000)).toBe(true);
    expect(g.remember('a', t, t * 1000 + 299_000)).toBe(false);
    expect(g.remember('a', t, t * 1000 + 300_999)).toBe(false);
    // Past Timestamp + window the copy is refused as expired anyway; the entry is gone.
    expect(g.remember('a', t, t * 1000 + 301_000)).toBe(true);
    for (const k of ['b', 'c', 'd', 'e']) expect(g.remember(k, t + 400, (t + 301) * 1000)).toBe(true);
    expect(g.size).toBeLessThanOrEqual(3);
    expect(new ReplayGuard({ windowSeconds: 0 }).windowSeconds).toBe(DEFAULT_REPLAY_MEMORY_SECONDS);
  });
});
