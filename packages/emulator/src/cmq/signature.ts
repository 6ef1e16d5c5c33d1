// The CMQ v2 signature (protocols/cmq.md §3): METHOD + host[:port] + path + '?' + the sorted
// params (minus Signature) as name=rawValue joined by '&', `_` in names shown as `.`, HMAC-SHA1
// unless SignatureMethod is exactly HmacSHA256, standard padded Base64.

import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureMethod = 'HmacSHA1' | 'HmacSHA256';

export interface SignInput {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  /** Every parameter except Signature, raw (decoded) values. */
  readonly params: ReadonlyArray<readonly [string, string]>;
}

export function stringToSign(input: SignInput, dropAtValues = false): string {
  const pairs = input.params.filter(([, v]) => !(dropAtValues && v.startsWith('@')));
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const joined = pairs.map(([k, v]) => `${k.replaceAll('_', '.')}=${v}`).join('&');
  return `${input.method.toUpperCase()}${input.host}${input.path}?${joined}`;
}

export function methodOf(signatureMethod: string | undefined): SignatureMethod {
  return signatureMethod === 'HmacSHA256' ? 'HmacSHA256' : 'HmacSHA1';
}

export function sign(text: string, secretKey: string, method: SignatureMethod): string {
  return createHmac(method === 'HmacSHA256' ? 'sha256' : 'sha1', secretKey)
    .update(text, 'utf8')
    .digest('base64');
}

/** Build the signed parameter list a client would send (used by tests and the bench). */
export function signParams(
  input: SignInput & { readonly secretKey: string; readonly signatureMethod?: SignatureMethod },
): Array<[string, string]> {
  const method = input.signatureMethod ?? methodOf(input.params.find(([k]) => k === 'SignatureMethod')?.[1]);
  const signature = sign(stringToSign(input), input.secretKey, method);
  return [...input.params.map(([k, v]): [string, string] => [k, v]), ['Signature', signature]];
}

/**
 * Check a received signature. For POST the variant without `@`-prefixed values is also accepted,
 * because the Python and PHP SDKs leave those out of the string they sign.
 */
export function verifySignature(
  input: SignInput,
  secretKey: string,
  signatureMethod: string | undefined,
  signature: string,
): boolean {
  const method = methodOf(signatureMethod);
  const given = Buffer.from(signature);
  const check = (dropAt: boolean): boolean => {
    const expected = Buffer.from(sign(stringToSign(input, dropAt), secretKey, method));
    return expected.length === given.length && timingSafeEqual(expected, given);
  };
  if (check(false)) return true;
  return (
    input.method.toUpperCase() === 'POST' && input.params.some(([, v]) => v.startsWith('@')) && check(true)
  );
}
