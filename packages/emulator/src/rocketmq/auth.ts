// `authorization: MQv2-HMAC-SHA1 Credential=<AK>, SignedHeaders=x-mq-date-time, Signature=<HEX>`
// where Signature = upper-hex HMAC-SHA1(secretKey, x-mq-date-time). The Apache proxy checks only
// the HMAC; we also check the date against a window (TDMQ-like), which can be turned off.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Credential } from '../contracts.js';
import { fail } from './statuses.js';

export interface AuthOptions {
  readonly credentials: readonly Credential[];
  /** Requests without `authorization` are accepted (the Apache proxy with ACL off). */
  readonly allowAnonymous: boolean;
  /** Allowed |now - x-mq-date-time| in seconds; 0 disables the check. */
  readonly dateWindowSeconds: number;
  readonly now: () => number;
}

export function signature(secretKey: string, dateTime: string): string {
  return createHmac('sha1', secretKey).update(dateTime, 'utf8').digest('hex').toUpperCase();
}

/** Parses `yyyyMMdd'T'HHmmss'Z'` as UTC; undefined when malformed. */
export function parseDateTime(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isNaN(t) ? undefined : t;
}

export function parseAuthorization(header: string): { credential?: string; signature?: string } {
  const space = header.indexOf(' ');
  if (space < 0) return {};
  const out: { credential?: string; signature?: string } = {};
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    // The Java proxy splits Credential on '/' and keeps the access key.
    if (key === 'Credential') out.credential = value.split('/')[0] ?? '';
    else if (key === 'Signature') out.signature = value;
  }
  return out;
}

/** Throws UNAUTHORIZED (40100) unless the metadata authenticates; returns the access key. */
export function authenticate(
  headers: Readonly<Record<string, string | undefined>>,
  options: AuthOptions,
): string | undefined {
  const authorization = headers.authorization;
  if (authorization === undefined || authorization === '') {
    if (options.allowAnonymous) return undefined;
    fail('UNAUTHORIZED', 'authorization header is required');
  }
  if (!authorization.startsWith('MQv2-HMAC-SHA1 '))
    fail('UNAUTHORIZED', 'unsupported authorization algorithm');
  const { credential, signature: given } = parseAuthorization(authorization);
  if (!credential || !given) fail('UNAUTHORIZED', 'authorization header lacks Credential or Signature');
  const match = options.credentials.find((c) => c.secretId === credential);
  if (match === undefined) fail('UNAUTHORIZED', `access key ${credential} does not exist`);
  const dateTime = headers['x-mq-date-time'] ?? '';
  const at = parseDateTime(dateTime);
  if (at === undefined) fail('UNAUTHORIZED', 'x-mq-date-time is missing or malformed');
  if (options.dateWindowSeconds > 0 && Math.abs(options.now() - at) > options.dateWindowSeconds * 1000) {
    fail('UNAUTHORIZED', 'x-mq-date-time is outside the allowed window');
  }
  const expected = Buffer.from(signature(match.secretKey, dateTime), 'utf8');
  const actual = Buffer.from(given.toUpperCase(), 'utf8');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    fail('UNAUTHORIZED', 'signature does not match');
  }
  return credential;
}
