// TC3-HMAC-SHA256 verification. The verifier is generic (it follows the Authorization header's own
// credential scope and SignedHeaders) because clients differ: the Node SDK signs only
// `content-type;host`, derives the scope's service from the first label of its endpoint (so a client
// pointed at 127.0.0.1:PORT signs with service `127`), and signs the host WITHOUT its port although the
// Host header carries one. See the fact sheet §2.1.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Credential } from '../contracts.js';
import { ApiError } from './envelope.js';

/** Largest accepted difference between X-TC-Timestamp and the server clock. */
export const MAX_SKEW_SECONDS = 300;

export interface Tc3Authorization {
  readonly secretId: string;
  readonly date: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

const AUTH_RE =
  /^TC3-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{4}-\d{2}-\d{2})\/([^/,\s]+)\/tc3_request\s*,\s*SignedHeaders=([A-Za-z0-9;._-]+)\s*,\s*Signature=([0-9a-fA-F]{64})\s*$/;

export function parseTc3Authorization(value: string): Tc3Authorization | undefined {
  const m = AUTH_RE.exec(value);
  if (!m) return undefined;
  return {
    secretId: m[1] ?? '',
    date: m[2] ?? '',
    service: m[3] ?? '',
    signedHeaders: (m[4] ?? '').toLowerCase().split(';'),
    signature: (m[5] ?? '').toLowerCase(),
  };
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, msg: string): Buffer {
  return createHmac('sha256', key).update(msg).digest();
}

/** UTC yyyy-mm-dd of a Unix-seconds timestamp, as the credential scope spells it. */
export function utcDate(timestampSec: number): string {
  return new Date(timestampSec * 1000).toISOString().slice(0, 10);
}

export interface CanonicalInput {
  readonly method: string;
  readonly path: string;
  readonly rawQuery: string;
  /** Lower-cased header name → canonical value, in SignedHeaders order. */
  readonly headerLines: readonly (readonly [string, string])[];
  readonly payload: Buffer | string;
}

export function canonicalRequest(input: CanonicalInput): string {
  const lines = input.headerLines.map(([k, v]) => `${k}:${v}\n`).join('');
  const signed = input.headerLines.map(([k]) => k).join(';');
  return [input.method, input.path, input.rawQuery, lines, signed, sha256Hex(input.payload)].join('\n');
}

export function stringToSign(timestamp: string, date: string, service: string, canonical: string): string {
  return `TC3-HMAC-SHA256\n${timestamp}\n${date}/${service}/tc3_request\n${sha256Hex(canonical)}`;
}

/** Lower-case hex signature over a string-to-sign, deriving the key chain from the scope. */
export function tc3Signature(secretKey: string, date: string, service: string, toSign: string): string {
  const kDate = hmac(`TC3${secretKey}`, date);
  const kService = hmac(kDate, service);
  const kSigning = hmac(kService, 'tc3_request');
  return createHmac('sha256', kSigning).update(toSign).digest('hex');
}

export interface Tc3VerifyInput {
  readonly method: string;
  readonly path: string;
  /** The query as sent; several spellings may be offered when only a parsed form is available. */
  readonly rawQueryCandidates: readonly string[];
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly authorization: string;
  readonly timestamp: string;
  readonly credentials: readonly Credential[];
  readonly nowSec: number;
  /** Allowed |X-TC-Timestamp - now|, seconds; 0 = unchecked. Default MAX_SKEW_SECONDS (300). */
  readonly maxSkewSeconds?: number;
}

/** AuthFailure.SignatureExpire unless `ts` is within `window` seconds of `nowSec` (either way). */
export function checkSkew(ts: number, nowSec: number, window: number): void {
  if (window > 0 && Math.abs(nowSec - ts) > window) {
    throw new ApiError(
      'AuthFailure.SignatureExpire',
      `Signature expired. Timestamp ${ts} differs from server time ${nowSec} by more than ${window} seconds.`,
    );
  }
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) return v.join(',');
  return v;
}

function safeEqualHex(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

const SIGNATURE_FAILURE_MSG =
  'The provided credentials could not be validated. Please check your signature is correct.';

/**
 * Checks timestamp skew, the SecretId and the signature; returns the credential or throws the exact
 * AuthFailure.* code a real endpoint gives.
 */
export function verifyTc3(input: Tc3VerifyInput): Credential {
  const auth = parseTc3Authorization(input.authorization);
  if (!auth) {
    throw new ApiError('AuthFailure.InvalidAuthorization', 'The Authorization header is malformed.');
  }
  if (!/^\d{1,12}$/.test(input.timestamp)) {
    throw new ApiError('InvalidParameter', 'The value of parameter `X-TC-Timestamp` is not valid.');
  }
  const ts = Number(input.timestamp);
  checkSkew(ts, input.nowSec, input.maxSkewSeconds ?? MAX_SKEW_SECONDS);
  const cred = input.credentials.find((c) => c.secretId === auth.secretId);
  if (!cred) throw new ApiError('AuthFailure.SecretIdNotFound', 'The SecretId is not found.');
  // The scope date must be the timestamp's UTC date: the key chain starts from it.
  if (auth.date !== utcDate(ts)) {
    throw new ApiError('AuthFailure.SignatureFailure', SIGNATURE_FAILURE_MSG);
  }
  if (!auth.signedHeaders.includes('host') || !auth.signedHeaders.includes('content-type')) {
    throw new ApiError('AuthFailure.SignatureFailure', SIGNATURE_FAILURE_MSG);
  }
  // The SDK signs the hostname without port; other clients may sign the full Host value. Try both.
  const hostHeader = (headerValue(input.headers, 'host') ?? '').trim().toLowerCase();
  const hostVariants = new Set([stripPort(hostHeader), hostHeader]);
  const payload = input.method === 'GET' ? '' : input.body;
  // Tencent's spec lower-cases header values; the Node SDK signs Content-Type verbatim. Accept either.
  const variants: [string, boolean][] = [];
  for (const host of hostVariants) variants.push([host, true], [host, false]);
  for (const [host, lower] of variants) {
    const headerLines = auth.signedHeaders.map((name): [string, string] => {
      if (name === 'host') return [name, host];
      const v = (headerValue(input.headers, name) ?? '').trim();
      return [name, lower ? v.toLowerCase() : v];
    });
    for (const rawQuery of new Set(input.rawQueryCandidates)) {
      const canonical = canonicalRequest({
        method: input.method,
        path: input.path,
        rawQuery,
        headerLines,
        payload,
      });
      const toSign = stringToSign(input.timestamp, auth.date, auth.service, canonical);
      if (safeEqualHex(tc3Signature(cred.secretKey, auth.date, auth.service, toSign), auth.signature)) {
        return cred;
      }
    }
  }
  throw new ApiError('AuthFailure.SignatureFailure', SIGNATURE_FAILURE_MSG);
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end >= 0 ? host.slice(0, end + 1) : host;
  }
  const colon = host.lastIndexOf(':');
  return colon >= 0 && /^\d+$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
}
