// Reading the parts of a broker URL that every driver shares: percent-encoded userinfo and path
// parts, and the query. Errors are CONFIG errors that name the part and never echo its value (it
// may be a secret).

import { ConfigError } from './errors.js';

/**
 * A percent-encoded URL part (user, password, vhost): a bad escape such as `%zz` is a ConfigError
 * that names the part and the fix, never a bare URIError, and never echoes the value (it may be a
 * secret).
 */
export function decodeUrlPart(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch (cause) {
    throw new ConfigError(
      `invalid URL ${what}: bad percent-encoding; write a literal % as %25 (encodeURIComponent does it)`,
      { cause, details: { fields: [`URL ${what}`] } },
    );
  }
}

/**
 * Names that would reach an object's prototype instead of becoming a field (`__proto__` set the
 * prototype and the schema then saw its array indexes as keys), so no option may have them.
 */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** URL query parameters as an object; repeated keys become arrays. */
export function queryToObject(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    if (RESERVED.has(key)) {
      throw new ConfigError(
        `invalid URL query parameter "${key}": no driver has such an option; remove it from the URL`,
        { details: { fields: [`URL query.${key}`] } },
      );
    }
    const existing = Object.hasOwn(out, key) ? out[key] : undefined;
    if (existing === undefined) out[key] = value;
    else out[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}
