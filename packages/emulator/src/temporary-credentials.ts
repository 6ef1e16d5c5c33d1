// Temporary credentials, as Tencent's STS and CAM roles hand them out: a SecretId/SecretKey that
// works only together with its session token and only until it expires. The emulator mints them
// (RunningEmulator.issueCredential, POST /_emulator/credentials) into the same credential list
// every protocol checks, and revokes keys (a rotated RocketMQ role token, a disabled API key), so
// tests can rotate credentials under a running producer and consumer.

import { randomBytes } from 'node:crypto';
import type { Clock, Credential } from './contracts.js';
import type { AdminRoute } from './server/admin.js';

export interface IssueOptions {
  /** Lifetime, ms; undefined: a permanent key (no token), like one created in the CAM console. */
  readonly ttlMs?: number;
  /** Fixed values (RocketMQ role token / role name); random when absent. */
  readonly secretId?: string;
  readonly secretKey?: string;
}

/** Why a credential was refused, or undefined when it may sign this request. */
export type SessionProblem = 'token-missing' | 'token-mismatch' | 'expired';

export class CredentialStore {
  readonly #list: Credential[];
  readonly #clock: Clock;

  /** `list` is the array every handler searches; issued keys are added to it in place. */
  constructor(list: Credential[], clock: Clock) {
    this.#list = list;
    this.#clock = clock;
  }

  issue(options: IssueOptions = {}): Credential {
    const temporary = options.ttlMs !== undefined;
    const credential: Credential = Object.freeze({
      secretId: options.secretId ?? `AKID${randomBytes(16).toString('hex')}`,
      secretKey: options.secretKey ?? randomBytes(24).toString('base64url'),
      ...(temporary
        ? {
            token: randomBytes(32).toString('base64url'),
            expiresAt: this.#clock.now() + (options.ttlMs ?? 0),
          }
        : {}),
    });
    this.#list.push(credential);
    return credential;
  }

  /** Removes the key: requests signed with it fail as an unknown SecretId / accessKey. */
  revoke(secretId: string): boolean {
    const at = this.#list.findIndex((c) => c.secretId === secretId);
    if (at < 0) return false;
    this.#list.splice(at, 1);
    return true;
  }
}

/** Checks a verified request's session token and the key's expiry against the auth clock. */
export function sessionProblem(
  credential: Credential,
  token: string | undefined,
  nowMs: number,
): SessionProblem | undefined {
  if (credential.token === undefined) return undefined;
  if (token === undefined || token === '') return 'token-missing';
  if (token !== credential.token) return 'token-mismatch';
  if (credential.expiresAt !== undefined && nowMs >= credential.expiresAt) return 'expired';
  return undefined;
}

/** The message a refused temporary credential gets (never the token itself). */
export function sessionMessage(problem: SessionProblem): string {
  switch (problem) {
    case 'token-missing':
      return 'The SecretId is a temporary credential; the request must carry its token (X-TC-Token / Token).';
    case 'token-mismatch':
      return 'The token does not belong to this SecretId.';
    case 'expired':
      return 'The temporary credential has expired; get a new one.';
  }
}

const PREFIX = '/_emulator/credentials';

/**
 * `POST /_emulator/credentials {"ttlSeconds": 60}` mints a temporary key (STS's shape:
 * TmpSecretId, TmpSecretKey, Token, ExpiredTime); without ttlSeconds a permanent one.
 * `DELETE /_emulator/credentials/<SecretId>` revokes a key.
 */
export function credentialAdminRoutes(store: CredentialStore): AdminRoute[] {
  return [
    {
      prefix: PREFIX,
      handle(method, path, body) {
        const rest = decodeURIComponent(path.slice(PREFIX.length).replace(/^\//, ''));
        if (method === 'POST' && rest === '') {
          const ttl = (body as { ttlSeconds?: unknown }).ttlSeconds;
          if (
            ttl !== undefined &&
            (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > 43_200)
          ) {
            return { status: 400, body: { error: 'ttlSeconds: a whole number of seconds, 1 to 43200' } };
          }
          const c = store.issue(ttl === undefined ? {} : { ttlMs: ttl * 1000 });
          return {
            status: 200,
            body: {
              TmpSecretId: c.secretId,
              TmpSecretKey: c.secretKey,
              ...(c.token === undefined ? {} : { Token: c.token }),
              ...(c.expiresAt === undefined
                ? {}
                : {
                    ExpiredTime: Math.floor(c.expiresAt / 1000),
                    Expiration: new Date(c.expiresAt).toISOString(),
                  }),
            },
          };
        }
        if (method === 'DELETE' && rest !== '') {
          return store.revoke(rest)
            ? { status: 200, body: { revoked: rest } }
            : { status: 404, body: { error: `no credential with SecretId ${rest}` } };
        }
        return {
          status: 405,
          body: { error: 'POST /_emulator/credentials or DELETE /_emulator/credentials/<SecretId>' },
        };
      },
    },
  ];
}
