// The CMQ v2 request signature (protocols/cmq.md §3). Written from the fact sheet, not taken from
// an SDK: sort every parameter but Signature by name (code-unit order), show `_` in names as `.`,
// join `name=rawValue` with `&`, prefix METHOD + host[:port] + path + '?', HMAC with the SecretKey,
// standard Base64 with padding.

import { createHmac } from 'node:crypto';

export type SignatureMethod = 'HmacSHA1' | 'HmacSHA256';

export interface StringToSignInput {
  readonly method: string;
  /** Host as written in the endpoint, with `:port` when one is given. */
  readonly host: string;
  /** Request path without query, e.g. `/` or `/v2/index.php`. */
  readonly path: string;
  /** Every parameter except Signature, with raw (not percent-encoded) values. */
  readonly params: ReadonlyArray<readonly [string, string]>;
}

export function stringToSign(input: StringToSignInput): string {
  const sorted = [...input.params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const joined = sorted.map(([name, value]) => `${name.replaceAll('_', '.')}=${value}`).join('&');
  return `${input.method.toUpperCase()}${input.host}${input.path}?${joined}`;
}

export function hmacBase64(text: string, secretKey: string, method: SignatureMethod): string {
  return createHmac(method === 'HmacSHA256' ? 'sha256' : 'sha1', secretKey)
    .update(text, 'utf8')
    .digest('base64');
}

/** The Signature value for these parameters (which must include SignatureMethod = `method`). */
export function signature(input: StringToSignInput, secretKey: string, method: SignatureMethod): string {
  return hmacBase64(stringToSign(input), secretKey, method);
}
