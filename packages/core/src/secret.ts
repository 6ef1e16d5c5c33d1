import { inspect } from 'node:util';

const REDACTED = '[redacted]';
const registry = new Set<string>();

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
    if (value.length >= 4) registry.add(value);
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
  for (const value of registry) {
    if (out.includes(value)) out = out.split(value).join(REDACTED);
    const encoded = encodeURIComponent(value);
    if (encoded !== value && out.includes(encoded)) out = out.split(encoded).join(REDACTED);
  }
  // user:password@host in any URL-looking text.
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi, `$1${REDACTED}@`);
}
