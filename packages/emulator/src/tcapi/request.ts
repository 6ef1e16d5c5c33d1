// Turns one HTTP request into an authenticated API call: which action, which version, which
// parameters, signed by whom. Two wire dialects reach the same endpoint (fact sheet §1.2, §2.3):
// TC3 (X-TC-* headers + Authorization header; JSON body, or form/query params for GET) and the v1
// signature (everything, including Action and Signature, as form/query params, no Authorization).

import type { Credential, ParsedRequest } from '../contracts.js';
import type { ReplayGuard } from '../server/replay-guard.js';
import { sessionMessage, sessionProblem } from '../temporary-credentials.js';
import { ApiError } from './envelope.js';
import { unflatten } from './params.js';
import { LEGACY_COMMON_PARAMS, verifyLegacy } from './sign-legacy.js';
import { verifyTc3 } from './sign-tc3.js';

/** TC3 POST bodies above this are refused (Tencent's documented limit). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface ApiCall {
  readonly action: string;
  readonly version: string;
  readonly region: string | undefined;
  readonly params: unknown;
  /** Params came form-encoded: every scalar is a string and arrays are objects keyed 0..n-1. */
  readonly fromForm: boolean;
  readonly credential: Credential;
}

export function header(req: ParsedRequest, name: string): string | undefined {
  const v = req.headers[name];
  if (Array.isArray(v)) return v[0];
  return typeof v === 'string' ? v : undefined;
}

function contentType(req: ParsedRequest): string {
  return (header(req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Form/query parameters in wire order; a repeated key keeps its first value. */
function formParams(req: ParsedRequest): Map<string, string> {
  const source =
    req.method === 'GET'
      ? req.query
      : contentType(req) === 'application/x-www-form-urlencoded'
        ? new URLSearchParams(req.body.toString('utf8'))
        : new URLSearchParams();
  const out = new Map<string, string>();
  for (const [k, v] of source) if (!out.has(k)) out.set(k, v);
  return out;
}

function isTc3(req: ParsedRequest): boolean {
  return header(req, 'authorization') !== undefined || header(req, 'x-tc-action') !== undefined;
}

/** Best-effort action name for fault injection; never throws. */
export function actionOf(req: ParsedRequest): string {
  try {
    const fromHeader = header(req, 'x-tc-action');
    if (fromHeader) return fromHeader;
    return formParams(req).get('Action') ?? '';
  } catch {
    return '';
  }
}

/** A temporary key signs only with its token and only until it expires (AuthFailure.TokenFailure). */
function checkSession(credential: Credential, token: string | undefined, nowMs: number): void {
  const problem = sessionProblem(credential, token, nowMs);
  if (problem !== undefined) throw new ApiError('AuthFailure.TokenFailure', sessionMessage(problem));
}

function missing(name: string): ApiError {
  return new ApiError('MissingParameter', `The request is missing a required parameter \`${name}\`.`);
}

/**
 * The query as the client sent it is not part of ParsedRequest, so the TC3 verifier is offered the
 * spellings clients produce: Node's querystring (the SDK), WHATWG URLSearchParams, and RFC 3986.
 */
function queryCandidates(query: URLSearchParams): string[] {
  const entries = [...query];
  const qs = (enc: (s: string) => string) => entries.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  // encodeURIComponent escapes exactly like Node's querystring.stringify, which the SDK uses.
  const rfc3986 = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  // The SDK signs `new URL(url).search`, and the WHATWG URL parser additionally escapes `'` there.
  const whatwg = (s: string) => encodeURIComponent(s).replace(/'/g, '%27');
  return [qs(encodeURIComponent), qs(whatwg), qs(rfc3986), query.toString()];
}

export interface AuthOptions {
  /** Allowed |timestamp - now|, seconds; 0 = unchecked. Default 300. */
  readonly maxSkewSeconds?: number;
  /** The auth clock in ms, for temporary keys' expiry (default: nowSec). */
  readonly nowMs?: number;
  /**
   * Replay memory for v1 requests (they carry a Nonce). TC3 has no nonce, and Tencent accepts
   * identical TC3 requests inside the window, so TC3 is never checked against it.
   */
  readonly replays?: ReplayGuard | undefined;
}

/** The code a v1 request gets when its SecretId + Signature was already used inside the window. */
export const REPLAYED_CODE = 'AuthFailure.SignatureExpire';

export function authenticate(
  req: ParsedRequest,
  credentials: readonly Credential[],
  nowSec: number,
  options: AuthOptions = {},
): ApiCall {
  if (req.method !== 'POST' && req.method !== 'GET') {
    throw new ApiError('UnsupportedProtocol', 'Only GET and POST requests are supported.');
  }
  if (req.body.length > MAX_BODY_BYTES) {
    throw new ApiError('RequestSizeLimitExceeded', `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
  }
  return isTc3(req)
    ? authenticateTc3(req, credentials, nowSec, options)
    : authenticateLegacy(req, credentials, nowSec, options);
}

function authenticateTc3(
  req: ParsedRequest,
  credentials: readonly Credential[],
  nowSec: number,
  options: AuthOptions,
): ApiCall {
  const action = header(req, 'x-tc-action');
  if (!action) throw missing('Action');
  const version = header(req, 'x-tc-version');
  if (!version) throw missing('Version');
  const timestamp = header(req, 'x-tc-timestamp');
  if (!timestamp) throw missing('Timestamp');
  const authorization = header(req, 'authorization');
  if (!authorization) {
    throw new ApiError('AuthFailure.InvalidAuthorization', 'The Authorization header is missing.');
  }
  const credential = verifyTc3({
    method: req.method,
    path: req.path,
    rawQueryCandidates: queryCandidates(req.query),
    headers: req.headers,
    body: req.body,
    authorization,
    timestamp,
    credentials,
    nowSec,
    ...(options.maxSkewSeconds !== undefined ? { maxSkewSeconds: options.maxSkewSeconds } : {}),
  });
  checkSession(credential, header(req, 'x-tc-token'), options.nowMs ?? nowSec * 1000);
  const region = header(req, 'x-tc-region');
  const ct = contentType(req);
  if (req.method === 'GET' || ct === 'application/x-www-form-urlencoded') {
    return { action, version, region, params: unflatten(formParams(req)), fromForm: true, credential };
  }
  if (ct !== 'application/json') {
    throw new ApiError(
      'InvalidParameter',
      `The Content-Type \`${ct}\` is not supported; use application/json.`,
    );
  }
  let params: unknown;
  try {
    params = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new ApiError(
      'InvalidParameter',
      'The request body is not valid JSON for Content-Type application/json.',
    );
  }
  return { action, version, region, params, fromForm: false, credential };
}

function authenticateLegacy(
  req: ParsedRequest,
  credentials: readonly Credential[],
  nowSec: number,
  options: AuthOptions,
): ApiCall {
  const all = formParams(req);
  const action = all.get('Action');
  if (!action) throw missing('Action');
  const version = all.get('Version');
  if (!version) throw missing('Version');
  const credential = verifyLegacy({
    method: req.method,
    host: header(req, 'host') ?? '',
    path: req.path,
    params: all,
    credentials,
    nowSec,
    ...(options.maxSkewSeconds !== undefined ? { maxSkewSeconds: options.maxSkewSeconds } : {}),
  });
  checkSession(credential, all.get('Token'), options.nowMs ?? nowSec * 1000);
  // Verified, so the Signature is genuine: a second use of it is a replay (same Nonce, Timestamp
  // and parameters). The legacy gateway calls this 4500 "RequestExpired"; API 3.0 documents no
  // replay code, so it gets the code of the neighbouring failure, an expired signature.
  const signature = all.get('Signature') ?? '';
  if (
    options.replays !== undefined &&
    !options.replays.remember(
      `${credential.secretId}\n${signature}`,
      Number(all.get('Timestamp')),
      nowSec * 1000,
    )
  ) {
    throw new ApiError(
      REPLAYED_CODE,
      'Request replayed. The Nonce and Timestamp of this request were already used; every request needs a new Nonce.',
    );
  }
  const own = [...all].filter(([k]) => !LEGACY_COMMON_PARAMS.has(k));
  return { action, version, region: all.get('Region'), params: unflatten(own), fromForm: true, credential };
}
