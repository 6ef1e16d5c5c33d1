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

/** Replaces every known secret value (and URL passwords) in a piece of text. */
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
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)\S*@/gi, `$1${REDACTED}@`);
}
