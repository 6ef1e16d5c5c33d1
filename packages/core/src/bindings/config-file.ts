// Finding, reading and validating a switchyard config file (YAML or JSON). Environment references
// (`${env:NAME}`, `${env:NAME:-fallback}`) are resolved after parsing, in string values only, so a
// secret's characters can never break the YAML; every missing variable is reported at once.

import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import { isCredentialField, Secret } from '../secret.js';
import { configFileSchema, describePath, type SwitchyardConfig } from './schema.js';

/** Looked for in the working directory, in this order, when neither a path nor SWITCHYARD_CONFIG is given. */
export const DEFAULT_CONFIG_FILES = Object.freeze([
  'switchyard.config.yaml',
  'switchyard.config.yml',
  'switchyard.config.json',
]);

export interface LoadConfigOptions {
  /** The file; default `$SWITCHYARD_CONFIG`, then the first of DEFAULT_CONFIG_FILES that exists. */
  path?: string;
  /** Where relative paths and default files are looked up; default process.cwd(). */
  cwd?: string;
  /** Variables for `${env:NAME}`; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface LoadedConfig {
  /** Absolute path of the file, or undefined for a config object. */
  readonly file: string | undefined;
  readonly config: SwitchyardConfig;
  /** Things that work but should not be done (inline secrets). */
  readonly warnings: readonly string[];
}

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Reads, substitutes and validates the config file. */
export async function loadConfigFile(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = await locate(options.path ?? env.SWITCHYARD_CONFIG, cwd);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `config file not found: ${file}`
        : `cannot read config file ${file}: ${(cause as Error).message}`,
      { cause, details: { file } },
    );
  }
  let raw: unknown;
  const json = file.endsWith('.json');
  try {
    raw = json ? JSON.parse(text) : parseYaml(text, { prettyErrors: false });
  } catch (cause) {
    // The parsers quote the source around the error (YAML's code frame, V8's JSON excerpt), and
    // that line may hold an inline secret that no Secret has registered yet (the file never got
    // as far as validation): say where and what kind of error, never quote the text, and keep the
    // native error (which quotes it too) out of the cause chain.
    const { problem, position } = describeParseError(cause, json);
    const at = position === undefined ? undefined : linePosition(text, position);
    const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`;
    throw new ConfigError(`config file ${file} is not valid ${json ? 'JSON' : 'YAML'}: ${problem}${where}`, {
      details: { file, ...(at === undefined ? {} : { line: at.line, column: at.col }) },
    });
  }
  return validateConfig(raw, { file, env });
}

function linePosition(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: (before.at(-1)?.length ?? 0) + 1 };
}

function describeParseError(cause: unknown, json: boolean): { problem: string; position?: number } {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (!json) {
    // yaml's YAMLParseError without prettyErrors: the parser's sentence and the offset.
    const offset = (cause as { pos?: unknown }).pos;
    return {
      problem: message,
      ...(Array.isArray(offset) && typeof offset[0] === 'number' && offset[0] >= 0
        ? { position: offset[0] }
        : {}),
    };
  }
  // V8: `Unexpected token 'x', ..."<source excerpt>"... is not valid JSON`, `"<source>" is not
  // valid JSON`, `Expected ',' or '}' after property value in JSON at position 93`.
  const position = /at position (\d+)/.exec(message)?.[1];
  const problem = message
    .replace(/, [\s\S]* is not valid JSON$/, '')
    .replace(/^[\s\S]* is not valid JSON$/, 'not JSON')
    .replace(/ in JSON at position \d+[\s\S]*$/, '');
  return { problem, ...(position === undefined ? {} : { position: Number(position) }) };
}

/** Validates a config object (already parsed); `file` only names it in errors. */
export function validateConfig(
  raw: unknown,
  options: { file?: string; env?: Readonly<Record<string, string | undefined>> } = {},
): LoadedConfig {
  const file = options.file;
  const label = file ?? 'switchyard config';
  const warnings: string[] = [];
  const missing: string[] = [];
  const substituted = substitute(raw, [], options.env ?? process.env, missing, warnings, label);
  if (missing.length > 0) {
    throw new ConfigError(`${label}: ${missing.join('; ')}`, {
      details: { file, missingEnv: [...new Set(missing.map((m) => /variable (\w+)/.exec(m)?.[1]))] },
    });
  }
  const reserved = reservedNames(substituted);
  if (reserved.length > 0) {
    throw new ConfigError(
      `invalid config ${label}: ${reserved.map((r) => `${r.section} "${r.name}": the name is reserved (__proto__, constructor, prototype); rename it`).join('; ')}`,
      {
        details: {
          file,
          bindings: reserved.filter((r) => r.section === 'binding').map((r) => r.name),
          fields: reserved.map((r) => `${r.section}s.${r.name}`),
        },
      },
    );
  }
  const result = configFileSchema.safeParse(substituted ?? {});
  if (!result.success) {
    const bindings = new Set<string>();
    const problems = result.error.issues.map((issue) => {
      const { where, binding } = describePath(issue.path);
      if (binding !== undefined) bindings.add(binding);
      return `${where}: ${issue.message}`;
    });
    throw new ConfigError(`invalid config ${label}: ${problems.join('; ')}`, {
      details: {
        file,
        bindings: [...bindings],
        fields: result.error.issues.map((i) => i.path.join('.')),
      },
    });
  }
  return { file, config: result.data, warnings };
}

/**
 * Names that object lookups resolve through the prototype: the schema would drop `__proto__`
 * silently, and a broker or binding called `constructor` would be found where none is defined.
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function reservedNames(raw: unknown): Array<{ section: 'broker' | 'binding'; name: string }> {
  const found: Array<{ section: 'broker' | 'binding'; name: string }> = [];
  if (typeof raw !== 'object' || raw === null) return found;
  for (const section of ['broker', 'binding'] as const) {
    const entries = Object.hasOwn(raw, `${section}s`)
      ? (raw as Record<string, unknown>)[`${section}s`]
      : undefined;
    if (typeof entries !== 'object' || entries === null) continue;
    for (const name of Object.keys(entries)) if (RESERVED_NAMES.has(name)) found.push({ section, name });
  }
  return found;
}

async function locate(given: string | undefined, cwd: string): Promise<string> {
  if (given !== undefined && given !== '') return isAbsolute(given) ? given : resolvePath(cwd, given);
  for (const name of DEFAULT_CONFIG_FILES) {
    const candidate = resolvePath(cwd, name);
    try {
      await readFile(candidate);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new ConfigError(
    `no config file: set SWITCHYARD_CONFIG or create ${DEFAULT_CONFIG_FILES.join(' or ')} in ${cwd}`,
    { details: { cwd } },
  );
}

function substitute(
  value: unknown,
  path: string[],
  env: Readonly<Record<string, string | undefined>>,
  missing: string[],
  warnings: string[],
  label: string,
  ancestors = new Set<object>(),
): unknown {
  if (typeof value === 'string') {
    const field = path[path.length - 1] ?? '';
    // A `credentials: { env | file: { id, secret, token } }` source names variables and files:
    // those are not secrets (docs/credentials.md).
    const names = path.at(-3) === 'credentials' && (path.at(-2) === 'env' || path.at(-2) === 'file');
    const secretField = !names && isCredentialField(field);
    let referenced = false;
    const out = value.replace(ENV_REF, (_match, name: string, fallback: string | undefined) => {
      referenced = true;
      const found = env[name];
      if (found !== undefined && found !== '') {
        // Values referenced from secret fields or URLs are registered so redact() scrubs them.
        if (secretField || field === 'url') new Secret(found);
        return found;
      }
      if (fallback !== undefined) return fallback;
      missing.push(`${path.join('.')} references environment variable ${name}, which is not set`);
      return '';
    });
    if (secretField && !referenced && value !== '') {
      new Secret(value);
      warnings.push(
        `${label}: ${path.join('.')} holds a secret inline; reference an environment variable instead, e.g. \${env:${envName(path)}}`,
      );
    }
    if (field === 'url' && !referenced) {
      const password = inlineUrlPassword(value);
      if (password !== undefined) {
        new Secret(password);
        warnings.push(
          `${label}: ${path.join('.')} has a password inline; write it as \${env:${envName(path)}_PASSWORD} in the URL`,
        );
      }
    }
    return out;
  }
  if (value !== null && typeof value === 'object') {
    // A YAML alias may point at a node that contains it (`&a [*a]`): the parsed value is cyclic,
    // and walking it would never end. Aliases that only repeat a node are fine.
    if (ancestors.has(value)) {
      throw new ConfigError(
        `${label}: ${path.join('.') || 'the top level'} refers to itself through a YAML alias; a config must be a tree`,
        { details: { fields: [path.join('.')] } },
      );
    }
    ancestors.add(value);
    try {
      if (Array.isArray(value)) {
        return value.map((item, i) =>
          substitute(item, [...path, String(i)], env, missing, warnings, label, ancestors),
        );
      }
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          substitute(v, [...path, k], env, missing, warnings, label, ancestors),
        ]),
      );
    } finally {
      ancestors.delete(value);
    }
  }
  return value;
}

function inlineUrlPassword(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.password === '' ? undefined : decodeURIComponent(url.password);
  } catch {
    return undefined;
  }
}

function envName(path: readonly string[]): string {
  return path
    .filter((p) => p !== 'brokers')
    .join('_')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}
