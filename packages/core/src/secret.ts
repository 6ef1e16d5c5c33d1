import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * Values of the live Secrets, with how many Secrets hold each and the URL-encoded form. A Secret
 * that is garbage-collected leaves: a service that makes many short-lived Secrets (one per config
 * parse, per request) keeps `redact()` as cheap as the few it really holds.
 */
const registry = new Map<string, { count: number; encoded: string }>();
const collected = new FinalizationRegistry<string>((value) => {
  const entry = registry.get(value);
  if (entry === undefined) return;
  entry.count -= 1;
  if (entry.count <= 0) registry.delete(value);
});

/**
 * A credential that never prints: not through toString, template strings, JSON.stringify,
 * util.inspect or console.log. Only `reveal()` gives the value, and only drivers call it, at the
 * moment they sign or authenticate.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    // Remember non-trivial secrets so `redact()` can scrub them from native error text.
    if (value.length >= 4) {
      const entry = registry.get(value);
      if (entry === undefined) registry.set(value, { count: 1, encoded: encodeURIComponent(value) });
      else entry.count += 1;
      collected.register(this, value);
    }
  }

  static from(value: string | Secret): Secret {
    return value instanceof Secret ? value : new Secret(value);
  }

  reveal(): string {
    return this.#value;
  }

  get isEmpty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}

/**
 * Names of the fields that carry a credential, in any URL query, config object or printed form, for
 * every driver: RabbitMQ `password`, CMQ / Pulsar over HTTP `secretKey`, `token` (Pulsar role
 * token, `stringToken` its API name), `sessionToken` / `securityToken` (temporary credentials), RocketMQ `accessKey` (the role
 * token) and `role` / `secretKey` (the role name), TLS `passphrase` and private keys. Compared
 * without case, `-` or `_`. SecretId is left out on purpose: Tencent treats it as an identifier
 * (errors and the console show it), and hiding it would hide which key was refused.
 */
export const CREDENTIAL_FIELDS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'pwd',
  'secret',
  'secretKey',
  'accessKey',
  'accessSecret',
  'apiKey',
  'token',
  'authToken',
  'accessToken',
  'sessionToken',
  'securityToken',
  'stringToken',
  'role',
  'passphrase',
  'credential',
  'credentials',
  'privateKey',
  'clientSecret',
]);

const fieldKey = (name: string) => name.replace(/[-_]/g, '').toLowerCase();
const CREDENTIAL_KEYS: ReadonlySet<string> = new Set(CREDENTIAL_FIELDS.map(fieldKey));

/** Suffixes that make any field a credential (`adminPassword`, `roleToken`, `tlsPassphrase`). */
const CREDENTIAL_SUFFIX =
  /(password|passwd|secret|secretkey|token|passphrase|credentials?|accesskey|privatekey)$/;

/**
 * True when a field or query parameter of this name holds a credential: one of CREDENTIAL_FIELDS,
 * or a name ending in one of the common ones (`adminPassword`, `roleToken`).
 */
export function isCredentialField(name: string): boolean {
  const key = fieldKey(name);
  return CREDENTIAL_KEYS.has(key) || CREDENTIAL_SUFFIX.test(key);
}

/**
 * URL schemes whose user name is a credential too: RocketMQ's is the role token (TDMQ's
 * accessKey), native Pulsar's is the role token when no password is given.
 */
const SECRET_USER_SCHEMES = /^(rocketmq|pulsar)(\+[a-z]+)?$/i;

const NAMES = [
  ...CREDENTIAL_FIELDS.map((n) => n.replace(/[A-Z]/g, (c) => `[-_]?${c}`)),
  '[a-z0-9_-]*(?:password|passwd|secret[-_]?key|token|passphrase|private[-_]?key|access[-_]?key)',
].join('|');
/** `?name=value` / `&name=value` (also `;`, and after whitespace or a quote, as in a log line). */
const QUERY = new RegExp(`([?&;\\s"'](?:${NAMES})=)[^&;#\\s"'<>]*`, 'gi');
/** The same inside a percent-encoded URL (a redirect target, an encoded error field). */
const QUERY_ENCODED = new RegExp(`((?:%3F|%26)(?:${NAMES})%3D)(?:[^%&#\\s"'<>]|%(?!26)[0-9a-f]{2})*`, 'gi');
/** `name: 'value'`, `"name":"value"`, `name="value"` (util.inspect, JSON, a config dump). */
const QUOTED = new RegExp(
  `((?:^|[^A-Za-z0-9])["']?(?:${NAMES})["']?\\s*[:=]\\s*)(["'\`])(?:\\\\.|(?!\\2)[^\\\\\\n])*\\2`,
  'gi',
);
/**
 * user:password@ (and user@ where the user is a credential) in percent-encoded text; the password
 * runs to the last %40, as the plain form's does to the last @.
 */
const USERINFO_ENCODED =
  /(\b[a-z](?:[a-z0-9.-]|\+|%2B)*%3A%2F%2F)((?:[^%\s/@]|%(?!3A|40|2F)[0-9a-f]{2})*)(%3A\S*)?%40/gi;

/**
 * Replaces every known secret value and every credential a URL or a config dump shows in a piece
 * of text: URL passwords (`user:password@`), the user name where it is the credential
 * (rocketmq://, pulsar://), query parameters and quoted fields named in CREDENTIAL_FIELDS, plain
 * and percent-encoded.
 */
export function redact(text: string): string {
  let out = text;
  for (const [value, { encoded }] of registry) {
    if (out.includes(value)) out = out.split(value).join(REDACTED);
    if (encoded !== value && out.includes(encoded)) out = out.split(encoded).join(REDACTED);
  }
  // user:password@host in any URL-looking text. The password runs to the last @ before
  // whitespace: one written with an unencoded /, @ or quote (an invalid URL, echoed in its parse
  // error) is hidden too, at the cost of sometimes hiding more than the password (text up to a
  // later @ with no space between).
  out = out.replace(
    /(\b([a-z][a-z0-9+.-]*):\/\/)([^/\s:@]*)(:\S*)?@/gi,
    (match, start: string, scheme: string, user: string, password: string | undefined) => {
      if (SECRET_USER_SCHEMES.test(scheme) && user !== '')
        return `${start}${REDACTED}${password === undefined ? '' : `:${REDACTED}`}@`;
      return password === undefined ? match : `${start}${user}:${REDACTED}@`;
    },
  );
  out = out.replace(USERINFO_ENCODED, (match, start: string, user: string, password: string | undefined) => {
    const scheme = decodeURIComponent(start).replace(/:\/\/$/, '');
    if (SECRET_USER_SCHEMES.test(scheme) && user !== '')
      return `${start}${REDACTED}${password === undefined ? '' : `%3A${REDACTED}`}%40`;
    return password === undefined ? match : `${start}${user}%3A${REDACTED}%40`;
  });
  out = out.replace(QUERY, `$1${REDACTED}`);
  out = out.replace(QUERY_ENCODED, `$1${REDACTED}`);
  return out.replace(QUOTED, `$1$2${REDACTED}$2`);
}
