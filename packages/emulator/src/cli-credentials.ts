// Where the CLI's SecretKeys come from. A key on the command line is readable by every user of the
// machine (`ps`, /proc/PID/cmdline) for as long as the emulator runs, so keys come from files or
// the environment; `--secret-key` still works for old scripts, with a warning.

import { readFileSync } from 'node:fs';
import type { Credential } from './contracts.js';

export const SECRET_ID_ENV = 'SWITCHYARD_EMULATOR_SECRET_ID';
export const SECRET_KEY_ENV = 'SWITCHYARD_EMULATOR_SECRET_KEY';

export interface CredentialFlags {
  readonly secretId: readonly string[];
  readonly secretKey: readonly string[];
  readonly secretKeyFile: readonly string[];
}

export interface ResolvedCredentials {
  readonly credentials: Credential[];
  /** Lines for stderr; never contain a key. */
  readonly warnings: string[];
}

/** Thrown with a message fit for the CLI's error line (it names files and flags, never a key). */
export class CredentialFlagError extends Error {}

/**
 * Pairs each `--secret-id` with its key, in order, from exactly one source: `--secret-key-file`
 * (one per id), `--secret-key` (one per id; warned about), or `$SWITCHYARD_EMULATOR_SECRET_KEY`
 * (one id, from `--secret-id` or `$SWITCHYARD_EMULATOR_SECRET_ID`). No id and no key: the
 * emulator's default pair.
 */
export function resolveCredentials(
  flags: CredentialFlags,
  env: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): ResolvedCredentials {
  const envKey = nonEmpty(env[SECRET_KEY_ENV]);
  const ids =
    flags.secretId.length > 0 ? [...flags.secretId] : [nonEmpty(env[SECRET_ID_ENV])].filter(isString);
  const sources = [
    flags.secretKeyFile.length > 0 ? '--secret-key-file' : undefined,
    flags.secretKey.length > 0 ? '--secret-key' : undefined,
  ].filter(isString);
  if (sources.length > 1) {
    throw new CredentialFlagError(
      'give the SecretKeys either as --secret-key-file FILE or as --secret-key KEY, not both: each pairs with the --secret-id at the same position',
    );
  }
  const source = sources[0] ?? (envKey !== undefined ? `$${SECRET_KEY_ENV}` : undefined);
  if (source === undefined) {
    if (ids.length > 0) {
      throw new CredentialFlagError(
        `--secret-id needs its SecretKey: --secret-key-file FILE (one per --secret-id, in order) or $${SECRET_KEY_ENV} (one --secret-id)`,
      );
    }
    return { credentials: [], warnings: [] };
  }
  let keys: string[];
  if (source === '--secret-key-file') keys = flags.secretKeyFile.map((path) => readKeyFile(path, readFile));
  else if (source === '--secret-key') keys = [...flags.secretKey];
  else keys = [envKey as string];
  if (ids.length !== keys.length) {
    throw new CredentialFlagError(
      source === `$${SECRET_KEY_ENV}`
        ? `$${SECRET_KEY_ENV} is the key of one SecretId: give exactly one --secret-id (or $${SECRET_ID_ENV}), got ${ids.length}; for several, use --secret-key-file once per --secret-id`
        : `give one ${source} for every --secret-id (got ${ids.length} --secret-id and ${keys.length} ${source})`,
    );
  }
  const warnings =
    source === '--secret-key'
      ? [
          `warning: --secret-key puts the SecretKey in the process list, where every user of this machine can read it; use --secret-key-file FILE or $${SECRET_KEY_ENV}`,
        ]
      : [];
  return { credentials: ids.map((secretId, i) => ({ secretId, secretKey: keys[i]! })), warnings };
}

function readKeyFile(path: string, readFile: (path: string) => string): string {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new CredentialFlagError(`cannot read --secret-key-file ${path}: ${code}`);
  }
  // Editors and `echo` end files with a newline; a key never does.
  const key = text.replace(/\r?\n$/, '');
  if (key === '')
    throw new CredentialFlagError(`--secret-key-file ${path} is empty: it must hold the SecretKey`);
  if (/[\r\n]/.test(key)) {
    throw new CredentialFlagError(
      `--secret-key-file ${path} has more than one line: it must hold only the SecretKey`,
    );
  }
  return key;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function isString(value: string | undefined): value is string {
  return value !== undefined;
}
