// Helpers for the tcapi tests: a movable clock, the real SDK client pointed at a local server, and
// raw request builders for driving the handler in-process.

import http from 'node:http';
import { createRequire } from 'node:module';
import type { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js';
import { CmqEngine } from '../src/cmq/engine.js';
import type { Credential, ParsedRequest } from '../src/contracts.js';
import { Faults } from '../src/faults/injector.js';
import { createProtocolServer, type ProtocolServer } from '../src/server/protocol-server.js';
import { createTcApiHandler, type TcApiHandler, type TcApiHandlerOptions } from '../src/tcapi/handler.js';
import { canonicalRequest, stringToSign, tc3Signature, utcDate } from '../src/tcapi/sign-tc3.js';
import { ManualClock } from './manual-clock.js';

const require = createRequire(import.meta.url);

/** The real SDK, loaded as its own CommonJS entry points (import only the TDMQ client module). */
function loadSdk(): {
  Client: typeof Client;
  TencentCloudSDKHttpException: new (...args: never[]) => Error;
} {
  return {
    Client: require('tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js').Client,
    TencentCloudSDKHttpException:
      require('tencentcloud-sdk-nodejs/tencentcloud/common/exception/tencent_cloud_sdk_exception.js').default,
  };
}

export const sdk = loadSdk();

export const CRED: Credential = { secretId: 'AKIDTESTKEY', secretKey: 'test-secret-key' };

export interface ClientOptions {
  secretId?: string;
  secretKey?: string;
  signMethod?: 'TC3-HMAC-SHA256' | 'HmacSHA256' | 'HmacSHA1';
  reqMethod?: 'POST' | 'GET';
  region?: string | null;
  reqTimeout?: number;
}

/** The real SDK client for `host:port` over plain HTTP (fact sheet §1.3, option 1: service `127`). */
export function makeClient(endpoint: string, cred: Credential, opts: ClientOptions = {}): Client {
  return new sdk.Client({
    credential: { secretId: opts.secretId ?? cred.secretId, secretKey: opts.secretKey ?? cred.secretKey },
    ...(opts.region === null ? {} : { region: opts.region ?? 'ap-guangzhou' }),
    profile: {
      signMethod: opts.signMethod ?? 'TC3-HMAC-SHA256',
      httpProfile: {
        endpoint,
        protocol: 'http://',
        reqMethod: opts.reqMethod ?? 'POST',
        reqTimeout: opts.reqTimeout ?? 10,
        // An explicit agent also keeps the SDK from tunnelling through an http_proxy env var.
        agent,
      },
    },
  });
}

export interface TestServer {
  readonly handler: TcApiHandler;
  readonly cmq: CmqEngine;
  readonly clock: ManualClock;
  readonly server: ProtocolServer;
  readonly port: number;
  client(opts?: ClientOptions): Client;
  close(): Promise<void>;
}

const agent = new http.Agent({ keepAlive: true });

export async function startTestServer(
  extra: Partial<Pick<TcApiHandlerOptions, 'authClock' | 'pulsar'>> = {},
): Promise<TestServer> {
  const clock = new ManualClock();
  const cmq = new CmqEngine({ clock, recreateGuardSeconds: 0 });
  const handler = createTcApiHandler({
    credentials: [CRED],
    cmq,
    clock,
    ...extra,
    pulsar: { receiveWaitMs: 150, ...extra.pulsar },
  });
  const server = await createProtocolServer(handler, {
    host: '127.0.0.1',
    port: 0,
    faults: new Faults({ rules: [] }),
    inspect: () => handler.inspect(),
  });
  return {
    handler,
    cmq,
    clock,
    server,
    port: server.port,
    client(opts = {}) {
      return makeClient(`127.0.0.1:${server.port}`, CRED, opts);
    },
    async close() {
      await server.close();
      cmq.close();
    },
  };
}

/** Awaits a promise that must reject, returning the rejection for assertions. */
export async function rejection(
  p: Promise<unknown>,
): Promise<{ code?: string; message: string; requestId?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string; requestId?: string };
  }
  throw new Error('expected the call to fail');
}

export function parsedRequest(init: {
  method?: string;
  path?: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}): ParsedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
  return {
    method: init.method ?? 'POST',
    path: init.path ?? '/',
    query: new URLSearchParams(init.query ?? ''),
    headers,
    body: Buffer.isBuffer(init.body) ? init.body : Buffer.from(init.body ?? ''),
    signal: new AbortController().signal,
  };
}

export function parseReply(body: string | Buffer): {
  Response: Record<string, unknown> & { Error?: { Code: string; Message: string }; RequestId: string };
} {
  return JSON.parse(body.toString());
}

/** A TC3-signed JSON POST as the SDK would send it to `host` (service `tdmq`). */
export function signedRequest(
  action: string,
  params: unknown,
  opts: { cred?: Credential; nowSec?: number; host?: string; signal?: AbortSignal } = {},
): ParsedRequest {
  const cred = opts.cred ?? CRED;
  const ts = String(opts.nowSec ?? Math.floor(Date.now() / 1000));
  const date = utcDate(Number(ts));
  const body = Buffer.from(JSON.stringify(params));
  const host = opts.host ?? 'tdmq.tencentcloudapi.com';
  const canonical = canonicalRequest({
    method: 'POST',
    path: '/',
    rawQuery: '',
    headerLines: [
      ['content-type', 'application/json'],
      ['host', host],
    ],
    payload: body,
  });
  const sig = tc3Signature(cred.secretKey, date, 'tdmq', stringToSign(ts, date, 'tdmq', canonical));
  return {
    ...parsedRequest({
      headers: {
        host,
        'content-type': 'application/json',
        'x-tc-action': action,
        'x-tc-version': '2020-02-17',
        'x-tc-timestamp': ts,
        'x-tc-region': 'ap-guangzhou',
        authorization: `TC3-HMAC-SHA256 Credential=${cred.secretId}/${date}/tdmq/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`,
      },
      body,
    }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
}
