// The CMQ data-plane client: undici Pools per endpoint (keep-alive connections, at most
// `maxConnections` requests on the wire per pool, the rest queued in order) — one for long polls
// and one for everything else, so sends and deletes never queue behind consumers' long polls
// (a broker with more consumers than connections starved its acks until leases ran out and
// messages came back twice) — each request freshly signed
// (Nonce, Timestamp) per protocols/cmq.md §3, answers parsed per §4. It never retries a request the
// broker may have acted on, except idempotent ones (receive, delete) once when the socket was reset
// before any reply — the classic stale keep-alive connection. Everything else is reported with a
// portable code and `retryable`, and the portable layer retries with backoff.

import { randomInt } from 'node:crypto';
import { ClosedError, type Credential, type CredentialProvider } from '@switchyard/core/driver';
import { Pool } from 'undici';
import { type CmqReply, cmqError, httpStatusError, transportError } from './errors.js';
import { type SignatureMethod, signature } from './sign.js';

export type ParamValue = string | number | readonly string[];

export interface CmqHttpOptions {
  readonly endpoint: string;
  readonly path: string;
  /** SecretId, SecretKey and the temporary key's Token, asked for each request. */
  readonly credentials: CredentialProvider;
  readonly signatureMethod: SignatureMethod;
  readonly maxConnections: number;
  readonly requestTimeoutMs: number;
}

export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
  /** Extra time the server may hold the request (long poll), ms. */
  readonly holdMs?: number;
  /** Safe to send twice: retried once when the connection was reset before a reply. */
  readonly idempotent?: boolean;
  /** Reply codes the caller handles itself instead of an error (e.g. 7000 no message). */
  readonly accept?: readonly number[];
  /** Named in error messages (queue or topic). */
  readonly subject?: string;
}

const REQUEST_CLIENT = 'SDK_TS_SWITCHYARD_0.1';
const RESET_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED']);

/** 1-based `name.N` arrays, as the Python/Java SDKs send them (sheet §11). */
export function flatten(params: Readonly<Record<string, ParamValue | undefined>>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number') out.push([name, String(value)]);
    else for (const [i, item] of value.entries()) out.push([`${name}.${i + 1}`, item]);
  }
  return out;
}

export class CmqHttpClient {
  readonly endpoint: string;
  readonly #options: CmqHttpOptions;
  readonly #host: string;
  readonly #pool: Pool;
  /** Long polls (calls with holdMs): a request there can be held for seconds by design. */
  readonly #pollPool: Pool;
  #closed = false;
  /** Requests sent, for tests and the bench. */
  requests = 0;

  constructor(options: CmqHttpOptions) {
    this.#options = options;
    const url = new URL(options.endpoint);
    this.endpoint = url.origin;
    // Signed as written in the endpoint, which is also what undici sends as Host.
    this.#host = url.host;
    const poolOptions = {
      connections: options.maxConnections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      connectTimeout: Math.min(options.requestTimeoutMs, 10_000),
    };
    this.#pool = new Pool(url.origin, poolOptions);
    this.#pollPool = new Pool(url.origin, poolOptions);
  }

  /** The undici pool of every request but long polls (escape hatch). */
  get pool(): Pool {
    return this.#pool;
  }

  /** Signs and sends one action; resolves the reply (code 0 or an accepted code), rejects a SwitchyardError. */
  async call(
    action: string,
    params: Readonly<Record<string, ParamValue | undefined>>,
    options: CallOptions = {},
  ): Promise<CmqReply> {
    let credential = await this.#options.credentials.get();
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(action, params, options, credential);
      } catch (error) {
        const code = (error as { cause?: { code?: string } }).cause?.code;
        if (attempt === 1 && options.idempotent && code !== undefined && RESET_CODES.has(code)) continue;
        // Refused as unauthenticated: the key may have been rotated or revoked before its expiry.
        // Ask the provider once more and, if that gives another key, send again (CMQ did nothing
        // with a request it could not authenticate).
        if (!renewed && (error as { code?: string }).code === 'UNAUTHENTICATED') {
          renewed = true;
          const fresh = await this.#options.credentials.replacementFor(credential);
          if (fresh !== undefined) {
            credential = fresh;
            continue;
          }
        }
        throw error;
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#pool.close(), this.#pollPool.close()]);
  }

  /** Ends in-flight requests at once (used when the driver closes with long polls outstanding). */
  async destroy(): Promise<void> {
    this.#closed = true;
    await Promise.all([this.#pool.destroy(), this.#pollPool.destroy()]);
  }

  async #once(
    action: string,
    params: Readonly<Record<string, ParamValue | undefined>>,
    options: CallOptions,
    credential: Credential,
  ): Promise<CmqReply> {
    if (this.#closed) throw new ClosedError('CMQ client is closed', { driver: 'cmq' });
    const o = this.#options;
    const common: Array<[string, string]> = [
      ['Action', action],
      ['Nonce', String(randomInt(1, 2 ** 31 - 1))],
      ['RequestClient', REQUEST_CLIENT],
      ['SecretId', credential.id ?? ''],
      ['SignatureMethod', o.signatureMethod],
      ['Timestamp', String(Math.floor(Date.now() / 1000))],
    ];
    if (credential.token !== undefined) common.push(['Token', credential.token.reveal()]);
    const all = [...common, ...flatten(params)];
    const sig = signature(
      { method: 'POST', host: this.#host, path: o.path, params: all },
      credential.secret.reveal(),
      o.signatureMethod,
    );
    all.push(['Signature', sig]);
    const body = new URLSearchParams(all).toString();
    const timeout = o.requestTimeoutMs + (options.holdMs ?? 0);
    this.requests++;
    let status: number;
    let text: string;
    try {
      const pool = (options.holdMs ?? 0) > 0 ? this.#pollPool : this.#pool;
      const response = await pool.request({
        path: o.path,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (this.#closed) throw new ClosedError('CMQ client is closed', { driver: 'cmq', cause: error });
      const code = (error as { code?: string }).code ?? '';
      throw transportError(
        action,
        error,
        code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT',
      );
    }
    if (status !== 200) throw httpStatusError(action, status, text);
    let reply: CmqReply;
    try {
      reply = JSON.parse(text) as CmqReply;
    } catch (error) {
      throw transportError(action, error, false);
    }
    if (typeof reply.code !== 'number') throw httpStatusError(action, status, text);
    if (reply.code === 0 || options.accept?.includes(reply.code)) return reply;
    throw cmqError(action, reply, options.subject);
  }
}
