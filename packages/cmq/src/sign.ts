// The CMQ v2 request signature (protocols/cmq.md §3). Written from the fact sheet, not taken from
// an SDK: sort every parameter but Signature by name (code-unit order), show `_` in names as `.`,
// join `name=rawValue` with `&`, prefix METHOD + host[:port] + path + '?', HMAC with the SecretKey,
// standard Base64 with padding.

import { createHmac, type KeyObject } from 'node:crypto';
import { encodeInto, formEncode, formSafe, utf8 } from './form.js';

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

const byName = ([a]: readonly [string, string], [b]: readonly [string, string]) =>
  a < b ? -1 : a > b ? 1 : 0;

export function stringToSign(input: StringToSignInput): string {
  const sorted = [...input.params].sort(byName);
  const joined = sorted.map(([name, value]) => `${name.replaceAll('_', '.')}=${value}`).join('&');
  return `${input.method.toUpperCase()}${input.host}${input.path}?${joined}`;
}

export function hmacBase64(
  text: string | Uint8Array,
  secretKey: string | KeyObject,
  method: SignatureMethod,
): string {
  const hmac = createHmac(method === 'HmacSHA256' ? 'sha256' : 'sha1', secretKey);
  return (typeof text === 'string' ? hmac.update(text, 'utf8') : hmac.update(text)).digest('base64');
}

/** The Signature value for these parameters (which must include SignatureMethod = `method`). */
export function signature(input: StringToSignInput, secretKey: string, method: SignatureMethod): string {
  return hmacBase64(stringToSign(input), secretKey, method);
}

/** Values this long are written and hashed on their own; shorter ones are joined first. */
const LONG = 1024;

/**
 * The whole request body, signed: every parameter form-encoded in the signed (sorted) order, then
 * `Signature` (the order of a form's pairs is free, protocols/cmq.md §2). Byte for byte what
 * `new URLSearchParams([...sorted, ['Signature', signature]]).toString()` gives, with each long
 * value copied once: into the body, as it stands or escaped (form.ts), and the HMAC reads it from
 * there (or from its UTF-8 bytes when it was escaped). URLSearchParams, the string to sign and
 * undici's `Buffer.from` of a string body each copied a 1 MiB value into fresh memory, and a fresh
 * MiB costs ≈ 0.5 ms of page faults on the bench machine before the copy itself.
 */
export function signedForm(
  input: StringToSignInput,
  secretKey: string | KeyObject,
  method: SignatureMethod,
): Buffer {
  const sorted = [...input.params].sort(byName);
  const n = sorted.length;
  const names = new Array<string>(n);
  /** The UTF-8 bytes of a value that needs escaping (undefined: it goes as it stands). */
  const raw = new Array<Buffer | undefined>(n);
  /** The body's bytes equal the signed ones (every value as it stands, no name shown otherwise). */
  let plain = true;
  let room = 11 + 3 * 44; // &Signature= and an escaped Base64 SHA-256 digest
  for (let i = 0; i < n; i++) {
    const [name, value] = sorted[i]!;
    const encoded = formEncode(name);
    names[i] = encoded;
    if (encoded !== name || name.includes('_')) plain = false;
    room += encoded.length + 2;
    if (formSafe(value)) room += value.length;
    else {
      const bytes = utf8(value);
      raw[i] = bytes;
      room += 3 * bytes.length;
      plain = false;
    }
  }
  const body = Buffer.allocUnsafe(room);
  /** Where each long value starts in the body. */
  const starts = new Array<number>(n);
  let at = 0;
  let pending = '';
  for (let i = 0; i < n; i++) {
    const value = sorted[i]![1];
    pending += i === 0 ? `${names[i]}=` : `&${names[i]}=`;
    const bytes = raw[i];
    if (bytes === undefined && value.length < LONG) {
      pending += value;
      continue;
    }
    at += body.write(pending, at, 'latin1');
    pending = '';
    starts[i] = at;
    at = bytes === undefined ? at + body.write(value, at, 'latin1') : encodeInto(bytes, body, at);
  }
  at += body.write(pending, at, 'latin1');
  const hmac = createHmac(method === 'HmacSHA256' ? 'sha256' : 'sha1', secretKey);
  hmac.update(`${input.method.toUpperCase()}${input.host}${input.path}?`, 'utf8');
  if (plain) hmac.update(body.subarray(0, at));
  else {
    let text = '';
    for (let i = 0; i < n; i++) {
      const [name, value] = sorted[i]!;
      text += `${i === 0 ? '' : '&'}${name.replaceAll('_', '.')}=`;
      if (value.length < LONG) {
        text += value;
        continue;
      }
      hmac.update(text, 'utf8');
      text = '';
      hmac.update(raw[i] ?? body.subarray(starts[i]!, starts[i]! + value.length));
    }
    hmac.update(text, 'utf8');
  }
  const sig = formEncode(hmac.digest('base64'));
  at += body.write(n === 0 ? `Signature=${sig}` : `&Signature=${sig}`, at, 'latin1');
  return body.subarray(0, at);
}
