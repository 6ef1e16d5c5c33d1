// Credentials for `--url`, `--from` and `--to` without putting them on the command line, where
// every local user can read them (ps, /proc/<pid>/cmdline) and shells keep them in history:
// `${env:NAME}` and `${file:PATH}` references inside the URL, and `--password-file` for the URL's
// password. Every value read becomes a Secret, so redact() hides it in every line the CLI prints.

import { readFile } from 'node:fs/promises';
import { ConfigError, isCredentialField, redact, Secret } from '@switchyard/core';

const REFERENCE = /\$\{(env|file):([^}]+)\}/g;
const HAS_REFERENCE = /\$\{(env|file):[^}]+\}/;

export interface TargetSecrets {
  /** A file whose content (one trailing newline dropped) is the URL's password, percent-encoded for you. */
  passwordFile?: string | undefined;
  /** `--password-file`, `--from-password-file`, ...: names the option in errors. */
  passwordOption?: string;
  env?: Readonly<Record<string, string | undefined>>;
  /** Told when the target itself carries a credential on the command line. */
  warn?: (text: string) => void;
}

/**
 * The target with its `${env:NAME}` / `${file:PATH}` references resolved (values used as written:
 * a value inside a URL must be URL-safe, as in a config file) and the `--password-file` password
 * set. `config:<binding>` targets pass unchanged (the config file resolves its own references).
 */
export async function resolveTarget(
  spec: string,
  what: string,
  options: TargetSecrets = {},
): Promise<string> {
  if (spec.startsWith('config:')) {
    if (options.passwordFile !== undefined)
      throw new ConfigError(
        `${options.passwordOption ?? '--password-file'} goes with a URL, not ${what} config:…; the config file references its secrets with \${env:NAME}`,
      );
    return spec;
  }
  warnInline(spec, what, options.warn);
  const env = options.env ?? process.env;
  const values = new Map<string, string>();
  for (const [, kind, name] of spec.matchAll(REFERENCE)) {
    const key = `${kind}:${name}`;
    if (values.has(key)) continue;
    const value = kind === 'env' ? env[name!] : await readSecretFile(name!, `${what} \${file:${name}}`);
    if (value === undefined || value === '')
      throw new ConfigError(
        `${what} references environment variable ${name}, which is not set; export it, or use \${file:PATH}`,
        { details: { missingEnv: [name] } },
      );
    new Secret(value);
    values.set(key, value);
  }
  const resolved = spec.replace(
    REFERENCE,
    (_all, kind: string, name: string) => values.get(`${kind}:${name}`)!,
  );
  if (options.passwordFile === undefined) return resolved;
  const option = options.passwordOption ?? '--password-file';
  const password = await readSecretFile(options.passwordFile, option);
  new Secret(password);
  let url: URL;
  try {
    url = new URL(resolved);
  } catch (cause) {
    throw new ConfigError(`not a valid broker URL: "${redact(resolved)}"`, { cause });
  }
  if (url.password !== '')
    throw new ConfigError(`${what} has a password and ${option} gives another; keep one of them`);
  // The setter keeps an already-encoded value as it is, so any character in the file is safe.
  url.password = encodeURIComponent(password);
  return url.href;
}

async function readSecretFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    // The path is the user's own argument, not a secret; the file's content never shows.
    throw new ConfigError(`${what}: cannot read ${path} (${code})`, { details: { file: path } });
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new ConfigError(`${what}: ${path} is empty`, { details: { file: path } });
  return value;
}

/** A password or a credential query parameter written into the argument itself. */
function warnInline(spec: string, what: string, warn: ((text: string) => void) | undefined): void {
  if (warn === undefined) return;
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    return;
  }
  // rocketmq:// and pulsar:// carry the role token as the user name.
  const secretUser = /^(rocketmq|pulsar)(\+[a-z]+)?:$/i.test(url.protocol) && url.username !== '';
  const inline =
    (secretUser && !HAS_REFERENCE.test(decodeURIComponentSafe(url.username))) ||
    (url.password !== '' && !HAS_REFERENCE.test(decodeURIComponentSafe(url.password))) ||
    [...url.searchParams].some(([key, value]) => isCredentialField(key) && !HAS_REFERENCE.test(value));
  if (inline)
    warn(
      `${what} has a credential written in it: other local users can read it in the process list; write \${env:NAME} or \${file:PATH} in its place, or use --password-file`,
    );
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
