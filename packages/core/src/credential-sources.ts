// Where a credential comes from: a fixed value, environment variables, files (a Kubernetes secret
// mount: one file per key, replaced through a symlink swap), or an async function (a CAM role, a
// vault). Every source yields the same shape; the provider (credentials.ts) decides when to ask.
// The config schema accepts the same forms, so a YAML config file can name env vars or files.

import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { Secret } from './secret.js';

/**
 * One credential, the secret parts wrapped so they never print. The id is an identifier, not a
 * secret (Tencent shows SecretIds in errors and the console; a RabbitMQ user name names the
 * connection): it stays plain, so messages can say which key or user was refused. A driver whose
 * id is secret (RocketMQ's accessKey is TDMQ's role token) wraps it itself. Per flavour:
 * Tencent Cloud API and CMQ: id = SecretId, secret = SecretKey, token = session token of
 * temporary keys; RabbitMQ: id = user (TDMQ role name), secret = password (role token);
 * RocketMQ: id = accessKey, secret = secretKey (on TDMQ the role token and the role name).
 */
export interface Credential {
  readonly id: string | undefined;
  readonly secret: Secret;
  readonly token: Secret | undefined;
  /** When it stops working, epoch ms; undefined: it does not expire. */
  readonly expiresAt: number | undefined;
}

/** What a credential function returns: plain strings or Secrets, expiry as Date or epoch ms. */
export interface CredentialInput {
  readonly id?: string | Secret | undefined;
  readonly secret: string | Secret;
  readonly token?: string | Secret | undefined;
  readonly expiresAt?: Date | number | undefined;
}

export type CredentialFunction = () => Promise<CredentialInput> | CredentialInput;

/** Parts named by environment variable or file path. */
export interface CredentialParts {
  readonly id?: string | undefined;
  readonly secret: string;
  readonly token?: string | undefined;
}

/**
 * The `credentials` field of a driver config, in one of its forms:
 * - an async function (or `{ provider, maxAgeMs }`), asked again ahead of the expiry it returns,
 *   or after `maxAgeMs` when it returns none;
 * - `{ env: { id?, secret, token? } }`: names of environment variables;
 * - `{ file: { id?, secret, token? } }`: paths of files holding one value each (trailing newline
 *   ignored), re-read when one of them changes (checked at most every `checkIntervalMs`);
 * - `{ value: { id?, secret, token? } }`: fixed.
 * `refreshAheadMs` (every form): how long before expiry a new credential is fetched.
 */
export type CredentialSource =
  | CredentialFunction
  | { readonly provider: CredentialFunction; readonly maxAgeMs?: number; readonly refreshAheadMs?: number }
  | { readonly env: CredentialParts; readonly refreshAheadMs?: number }
  | { readonly file: CredentialParts; readonly checkIntervalMs?: number; readonly refreshAheadMs?: number }
  | {
      readonly value: Omit<CredentialInput, 'expiresAt'>;
      readonly refreshAheadMs?: number;
    };

const secretish = z.union([z.string().min(1, 'must not be empty'), z.instanceof(Secret)]);
const name = z.string().min(1, 'must not be empty').max(4096);
const parts = z.strictObject({ id: name.optional(), secret: name, token: name.optional() });
const ms = (max: number) => z.number().int().min(0).max(max);
const fn = z.custom<CredentialFunction>((v) => typeof v === 'function', 'must be an async function');

/** The schema drivers put in their config as `credentials`. */
export const credentialSourceSchema: z.ZodType<CredentialSource> = z.union([
  fn,
  z.strictObject({
    provider: fn,
    maxAgeMs: ms(86_400_000).optional(),
    refreshAheadMs: ms(3_600_000).optional(),
  }),
  z.strictObject({ env: parts, refreshAheadMs: ms(3_600_000).optional() }),
  z.strictObject({
    file: parts,
    checkIntervalMs: ms(3_600_000).optional(),
    refreshAheadMs: ms(3_600_000).optional(),
  }),
  z.strictObject({
    value: z.strictObject({ id: secretish.optional(), secret: secretish, token: secretish.optional() }),
    refreshAheadMs: ms(3_600_000).optional(),
  }),
]) as z.ZodType<CredentialSource>;

/** A failure this module describes itself (paths, variable names): safe to show as it is. */
export class CredentialSourceError extends Error {
  override name = 'CredentialSourceError';
}

/** A loader: fetches the credential now. `changed()` says whether a file source needs a re-read. */
export interface Loader {
  readonly kind: 'function' | 'env' | 'file' | 'value';
  /** Ask again after this long even without an expiry (function sources). */
  readonly maxAgeMs: number | undefined;
  readonly checkIntervalMs: number | undefined;
  load(): Promise<Credential>;
  changed?(): Promise<boolean>;
}

export function normalize(input: CredentialInput, where: string): Credential {
  if (typeof input !== 'object' || input === null)
    throw new CredentialSourceError(`${where} returned no credential object`);
  // An empty secret is kept (an AMQP user may have an empty password); a missing one is an error.
  const secret =
    typeof input.secret === 'string' || input.secret instanceof Secret
      ? Secret.from(input.secret)
      : undefined;
  if (secret === undefined)
    throw new CredentialSourceError(`${where} returned a credential without its secret`);
  const expiresAt =
    input.expiresAt instanceof Date
      ? input.expiresAt.getTime()
      : typeof input.expiresAt === 'number'
        ? input.expiresAt
        : undefined;
  if (expiresAt !== undefined && !Number.isFinite(expiresAt)) {
    throw new CredentialSourceError(
      `${where} returned an expiresAt that is not a date or epoch milliseconds`,
    );
  }
  const id = input.id instanceof Secret ? input.id.reveal() : input.id;
  return Object.freeze({ id: id === '' ? undefined : id, secret, token: toSecret(input.token), expiresAt });
}

function toSecret(value: string | Secret | undefined): Secret | undefined {
  if (value === undefined) return undefined;
  const s = Secret.from(value);
  return s.isEmpty ? undefined : s;
}

export function loaderFor(source: CredentialSource, env: NodeJS.ProcessEnv = process.env): Loader {
  if (typeof source === 'function') return functionLoader(source, undefined);
  if ('provider' in source) return functionLoader(source.provider, source.maxAgeMs);
  if ('env' in source) return envLoader(source.env, env);
  if ('file' in source) return fileLoader(source.file, source.checkIntervalMs ?? 1_000);
  const fixed = normalize(source.value, 'credentials.value');
  return { kind: 'value', maxAgeMs: undefined, checkIntervalMs: undefined, load: async () => fixed };
}

function functionLoader(get: CredentialFunction, maxAgeMs: number | undefined): Loader {
  return {
    kind: 'function',
    maxAgeMs,
    checkIntervalMs: undefined,
    load: async () => normalize(await get(), 'the credentials function'),
  };
}

function envLoader(names: CredentialParts, env: NodeJS.ProcessEnv): Loader {
  const read = (part: string, variable: string | undefined, required: boolean) => {
    if (variable === undefined) return undefined;
    const value = env[variable];
    if ((value === undefined || value === '') && required) {
      throw new CredentialSourceError(
        `environment variable ${variable} (credentials.env.${part}) is not set`,
      );
    }
    return value === '' ? undefined : value;
  };
  return {
    kind: 'env',
    maxAgeMs: undefined,
    checkIntervalMs: undefined,
    load: async () =>
      normalize(
        {
          id: read('id', names.id, true),
          secret: read('secret', names.secret, true) ?? '',
          token: read('token', names.token, false),
        },
        'credentials.env',
      ),
  };
}

/**
 * Files are compared by inode, size and mtime of what the path resolves to now: a Kubernetes
 * secret update swaps the `..data` symlink to a new directory, so the inode changes even when the
 * size and mtime look the same.
 */
function fileLoader(paths: CredentialParts, checkIntervalMs: number): Loader {
  const entries = Object.entries(paths).filter((e): e is [string, string] => e[1] !== undefined);
  let seen = '';
  const fingerprint = async () =>
    (
      await Promise.all(
        entries.map(async ([, path]) => {
          try {
            const s = await stat(path);
            return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
          } catch {
            return 'missing';
          }
        }),
      )
    ).join('|');
  const readPart = async (part: string, path: string | undefined, required: boolean) => {
    if (path === undefined) return undefined;
    try {
      // One trailing newline is how `echo value > file` and most editors leave it.
      return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'error';
      if (!required && code === 'ENOENT') return undefined;
      throw new CredentialSourceError(`cannot read credentials.file.${part} (${path}): ${code}`);
    }
  };
  return {
    kind: 'file',
    maxAgeMs: undefined,
    checkIntervalMs,
    load: async () => {
      const before = await fingerprint();
      const credential = normalize(
        {
          id: await readPart('id', paths.id, true),
          secret: (await readPart('secret', paths.secret, true)) ?? '',
          token: await readPart('token', paths.token, false),
        },
        'credentials.file',
      );
      seen = before;
      return credential;
    },
    changed: async () => (await fingerprint()) !== seen,
  };
}
