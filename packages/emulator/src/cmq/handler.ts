// The CMQ HTTP ProtocolHandler: form parameters from the body (POST, whatever the Content-Type)
// or the query (GET), signature and timestamp checks, case-insensitive action dispatch, and the
// `{code, message, requestId}` envelope on HTTP 200 for every outcome (protocols/cmq.md §1–§4).

import type {
  Clock,
  Credential,
  HttpReply,
  Inspectable,
  ParsedRequest,
  ProtocolHandler,
} from '../contracts.js';
import { ReplayGuard } from '../server/replay-guard.js';
import { sessionProblem } from '../temporary-credentials.js';
import { actionNames, actions } from './actions.js';
import type { CmqEngine } from './engine.js';
import { CmqError, cmqErrors } from './errors.js';
import { Params } from './params.js';
import { verifySignature } from './signature.js';

export interface CmqHandlerOptions {
  readonly engine: CmqEngine;
  readonly credentials: readonly Credential[];
  /** Time for the Timestamp window and the replay memory. Default: the engine's clock. */
  readonly clock?: Clock;
  /** Allowed |Timestamp - now| in seconds, in both directions; 0 turns the check off. Default 300. */
  readonly timestampWindowSeconds?: number;
  /**
   * Refuse a second request with the same SecretId and Signature (so the same Nonce, Timestamp and
   * parameters) while its Timestamp is inside the window: `4500 (10100)`. Default true.
   */
  readonly replayProtection?: boolean;
  /** Most requests remembered for replay detection (oldest forgotten first). Default 100 000. */
  readonly replayCacheSize?: number;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;
const NUMERIC = /^[+-]?\d{1,20}$/;

export class CmqHandler implements ProtocolHandler, Inspectable {
  readonly protocol = 'cmq' as const;
  private readonly engine: CmqEngine;
  /** The emulator's live list: keys issued or revoked while it runs count at once. */
  private readonly credentials: readonly Credential[];
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly replays: ReplayGuard | undefined;
  private readonly parsed = new WeakMap<ParsedRequest, Params | CmqError>();
  private requestSeq = 0;
  private readonly requestPrefix = `${process.pid.toString(16)}-${Date.now().toString(16)}`;

  constructor(options: CmqHandlerOptions) {
    this.engine = options.engine;
    this.credentials = options.credentials;
    this.clock = options.clock ?? options.engine.clock;
    const windowSeconds = options.timestampWindowSeconds ?? 300;
    this.windowMs = windowSeconds * 1000;
    this.replays =
      options.replayProtection === false
        ? undefined
        : new ReplayGuard({
            windowSeconds,
            ...(options.replayCacheSize !== undefined ? { maxEntries: options.replayCacheSize } : {}),
          });
  }

  actionOf(request: ParsedRequest): string {
    const params = this.params(request);
    if (params instanceof CmqError) return 'unknown';
    const name = params.get('Action');
    return (name !== undefined && actionNames.get(name.toLowerCase())) || 'unknown';
  }

  async handle(request: ParsedRequest): Promise<HttpReply> {
    const requestId = this.nextRequestId();
    try {
      const method = request.method.toUpperCase();
      if (method !== 'GET' && method !== 'POST') throw cmqErrors.badMethod(request.method);
      const params = this.params(request);
      if (params instanceof CmqError) throw params;
      const actionName = params.required('Action');
      const canonical = actionNames.get(actionName.toLowerCase());
      if (canonical === undefined) throw cmqErrors.actionNotExisted();
      this.authenticate(request, params);
      const fields = await actions[canonical]!(this.engine, params, () => request.signal);
      // The Go SDK sends clientRequestId and reads it back; echoing it costs nothing elsewhere.
      const clientRequestId = params.get('clientRequestId');
      return reply({
        code: 0,
        message: '',
        requestId,
        ...(clientRequestId !== undefined ? { clientRequestId } : {}),
        ...fields,
      });
    } catch (error) {
      const e = error instanceof CmqError ? error : cmqErrors.internal();
      return reply({ code: e.code, message: e.message, requestId, ...e.extra });
    }
  }

  injectedError(_request: ParsedRequest, _action: string): HttpReply {
    const e = cmqErrors.internal();
    return reply({ code: e.code, message: e.message, requestId: this.nextRequestId() });
  }

  oversizedReply(_request: ParsedRequest): HttpReply {
    const e = cmqErrors.unparsable('body');
    return reply({ code: e.code, message: e.message, requestId: this.nextRequestId() });
  }

  inspect(): unknown {
    return this.engine.inspect();
  }

  private params(request: ParsedRequest): Params | CmqError {
    let params = this.parsed.get(request);
    if (params === undefined) {
      try {
        // The doc: GET reads only the query string, POST only the body.
        const source =
          request.method.toUpperCase() === 'GET'
            ? request.query
            : new URLSearchParams(request.body.toString('utf8'));
        params = Params.parse(source);
      } catch (error) {
        params = error instanceof CmqError ? error : cmqErrors.unparsable('body');
      }
      this.parsed.set(request, params);
    }
    return params;
  }

  private authenticate(request: ParsedRequest, params: Params): void {
    const secretId = params.required('SecretId');
    const signature = params.required('Signature');
    const timestamp = params.required('Timestamp');
    const nonce = params.required('Nonce');
    if (!NUMERIC.test(timestamp)) throw cmqErrors.errorType('Timestamp');
    if (!NUMERIC.test(nonce)) throw cmqErrors.errorType('Nonce');
    const credential = this.credentials.find((c) => c.secretId === secretId);
    const secretKey = credential?.secretKey;
    if (credential === undefined || secretKey === undefined) {
      throw secretId.startsWith('AKID') ? cmqErrors.secretIdNotExisted() : cmqErrors.secretIdNotAkid();
    }
    const now = this.clock.now();
    if (this.windowMs > 0 && Math.abs(Number(timestamp) * 1000 - now) > this.windowMs) {
      throw cmqErrors.expired(timestamp, Math.floor(now / 1000), this.windowMs / 1000);
    }
    const signed = verifySignature(
      {
        method: request.method,
        host: hostOf(request),
        path: request.path,
        params: params.entries.filter(([k]) => k !== 'Signature'),
      },
      secretKey,
      params.get('SignatureMethod'),
      signature,
    );
    if (!signed) throw cmqErrors.authFailed();
    // Temporary keys (the SDKs' Token parameter): a wrong or missing token fails like a bad
    // signature; an expired key like a disabled one (4100/10080, the closest documented code).
    const problem = sessionProblem(credential, params.get('Token'), now);
    if (problem === 'expired') throw cmqErrors.secretIdStatus();
    if (problem !== undefined) throw cmqErrors.authFailed();
    // Only a verified request is remembered: a forged one can neither fill the memory nor make a
    // later genuine request look like a replay.
    if (
      this.replays !== undefined &&
      !this.replays.remember(`${secretId}\n${signature}`, Number(timestamp), now)
    ) {
      throw cmqErrors.replayed();
    }
  }

  private nextRequestId(): string {
    return `${this.requestPrefix}-${(++this.requestSeq).toString(16)}`;
  }
}

function hostOf(request: ParsedRequest): string {
  const host = request.headers.host;
  return typeof host === 'string' ? host : '';
}

function reply(body: Record<string, unknown>): HttpReply {
  return { status: 200, headers: JSON_HEADERS, body: JSON.stringify(body) };
}
