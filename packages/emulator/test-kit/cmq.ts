// Test helpers: a signed CMQ client over real sockets and a CMQ-only server (engine + handler +
// protocol server) so CMQ tests do not depend on the other protocols.

import { CmqEngine, type CmqEngineOptions } from '../src/cmq/engine.js';
import { CmqHandler } from '../src/cmq/handler.js';
import { type SignatureMethod, signParams } from '../src/cmq/signature.js';
import type { Clock, Credential } from '../src/contracts.js';
import { Faults } from '../src/faults/injector.js';
import { createProtocolServer, type ProtocolServer } from '../src/server/protocol-server.js';

export const TEST_CREDENTIAL: Credential = { secretId: 'AKIDtest0001', secretKey: 'test-secret-key' };

export interface CmqReply {
  code: number;
  message: string;
  requestId: string;
  [field: string]: unknown;
}

export interface CallOptions {
  readonly credential?: Credential;
  readonly path?: string;
  readonly method?: 'GET' | 'POST';
  readonly signatureMethod?: SignatureMethod;
  readonly timestamp?: number;
  readonly contentType?: string | null;
  readonly signal?: AbortSignal;
  /** Mutate the signed params before sending (to break the signature, drop fields...). */
  readonly tamper?: (params: Array<[string, string]>) => Array<[string, string]>;
}

export type ParamValue = string | number | readonly string[];

/** Expand arrays into 1-based `name.N` params as the Python/Java SDKs do. */
export function flatten(params: Readonly<Record<string, ParamValue>>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(params)) {
    if (!Array.isArray(v)) out.push([k, String(v)]);
    else for (const [i, item] of v.entries()) out.push([`${k}.${i + 1}`, String(item)]);
  }
  return out;
}

let nonce = 1;

export class CmqTestClient {
  constructor(
    readonly url: string,
    private readonly clock: Clock = { now: () => Date.now() },
  ) {}

  async call(
    action: string,
    params: Readonly<Record<string, ParamValue>> = {},
    options: CallOptions = {},
  ): Promise<CmqReply> {
    const { status, text } = await this.raw(action, params, options);
    if (status !== 200) throw new Error(`HTTP ${status}: ${text}`);
    return JSON.parse(text) as CmqReply;
  }

  /** Call and fail the test unless code is 0. */
  async ok(
    action: string,
    params: Readonly<Record<string, ParamValue>> = {},
    options: CallOptions = {},
  ): Promise<CmqReply> {
    const reply = await this.call(action, params, options);
    if (reply.code !== 0) throw new Error(`${action} failed: ${JSON.stringify(reply)}`);
    return reply;
  }

  async raw(
    action: string,
    params: Readonly<Record<string, ParamValue>>,
    options: CallOptions = {},
  ): Promise<{ status: number; text: string }> {
    const credential = options.credential ?? TEST_CREDENTIAL;
    const path = options.path ?? '/v2/index.php';
    const method = options.method ?? 'POST';
    const url = new URL(path, this.url);
    const signatureMethod = options.signatureMethod ?? 'HmacSHA256';
    let signed = signParams({
      method,
      host: url.host,
      path,
      secretKey: credential.secretKey,
      params: [
        ['Action', action],
        ['Nonce', String(nonce++)],
        ['RequestClient', 'SDK_TS_TEST'],
        ['SecretId', credential.secretId],
        ['SignatureMethod', signatureMethod],
        ['Timestamp', String(options.timestamp ?? Math.floor(this.clock.now() / 1000))],
        ...flatten(params),
      ],
    });
    if (options.tamper) signed = options.tamper(signed);
    const form = new URLSearchParams(signed).toString();
    const headers: Record<string, string> = {};
    if (options.contentType !== null)
      headers['content-type'] = options.contentType ?? 'application/x-www-form-urlencoded';
    const response =
      method === 'GET'
        ? await fetch(`${url.href}?${form}`, {
            method,
            headers,
            ...(options.signal ? { signal: options.signal } : {}),
          })
        : await fetch(url, {
            method,
            headers,
            body: form,
            ...(options.signal ? { signal: options.signal } : {}),
          });
    return { status: response.status, text: await response.text() };
  }
}

export interface CmqTestServer {
  readonly engine: CmqEngine;
  readonly server: ProtocolServer;
  readonly faults: Faults;
  readonly client: CmqTestClient;
  close(): Promise<void>;
}

export async function startCmqTestServer(
  options: {
    engine?: CmqEngineOptions;
    clock?: Clock;
    faults?: Faults;
    timestampWindowSeconds?: number;
  } = {},
): Promise<CmqTestServer> {
  const clock = options.clock ?? options.engine?.clock;
  const engine = new CmqEngine({ recreateGuardSeconds: 0, ...options.engine, ...(clock ? { clock } : {}) });
  const handler = new CmqHandler({
    engine,
    credentials: [TEST_CREDENTIAL, { secretId: 'AKIDsecond', secretKey: 'second-key' }],
    ...(options.timestampWindowSeconds !== undefined
      ? { timestampWindowSeconds: options.timestampWindowSeconds }
      : {}),
  });
  const faults = options.faults ?? new Faults();
  const server = await createProtocolServer(handler, {
    host: '127.0.0.1',
    port: 0,
    faults,
    inspect: () => ({ cmq: handler.inspect() }),
  });
  return {
    engine,
    server,
    faults,
    client: new CmqTestClient(server.url, engine.clock),
    async close() {
      engine.close();
      await server.close();
    },
  };
}
