import { createHmac, timingSafeEqual } from 'node:crypto';

/** Fields the server leaves out when it rebuilds the signed content (PlainAccessValidator). */
const UNSIGNED = new Set(['Signature', '_UNIQUE_KEY_QUERY']);

/**
 * The content AclClientRPCHook signs: values sorted by key in UTF-16 order (JS's default sort, not localeCompare),
 * concatenated without separators, then the exact body bytes.
 */
export function signedContent(extFields: Record<string, string>, body?: Buffer): Buffer {
  const text = Buffer.from(signedFields(extFields), 'utf8');
  return body && body.length > 0 ? Buffer.concat([text, body]) : text;
}

function signedFields(extFields: Record<string, string>): string {
  const keys = Object.keys(extFields)
    .filter((k) => !UNSIGNED.has(k))
    .sort();
  return keys.map((k) => extFields[k]).join('');
}

/** base64(HmacSHA1(secretKey, content)), as AclSigner computes it. */
export function signature(content: Buffer, secretKey: string): string {
  return createHmac('sha1', Buffer.from(secretKey, 'utf8')).update(content).digest('base64');
}

/** A body in one buffer, or in pieces sent one after another (never joined to be signed). */
export type BodyBytes = Buffer | readonly Buffer[];

// The HMAC is fed the fields and then the body, so a large body is never copied to be signed.
function sign(extFields: Record<string, string>, body: BodyBytes | undefined, secretKey: string): string {
  const hmac = createHmac('sha1', Buffer.from(secretKey, 'utf8')).update(signedFields(extFields), 'utf8');
  if (Buffer.isBuffer(body)) {
    if (body.length > 0) hmac.update(body);
  } else if (body !== undefined) for (const part of body) hmac.update(part);
  return hmac.digest('base64');
}

/**
 * Returns extFields plus AccessKey, SecurityToken (if given) and Signature. For TDMQ the access key is the role
 * token and the secret key is the role name.
 */
export function signRequest(
  extFields: Record<string, string>,
  body: BodyBytes | undefined,
  accessKey: string,
  secretKey: string,
  securityToken?: string,
): Record<string, string> {
  // Copied field by field onto a fresh object, not spread: properties added after a spread take
  // V8's slow path (≈ 0.5 µs each, docs/bench-profiles.md §17.2), and every request is signed.
  const fields: Record<string, string> = {};
  for (const key in extFields) fields[key] = extFields[key] as string;
  fields.AccessKey = accessKey;
  if (securityToken) fields.SecurityToken = securityToken;
  fields.Signature = sign(fields, body, secretKey);
  return fields;
}

/**
 * Server side: checks Signature over every received field (stringified) except Signature itself — the Apache rule,
 * which also accepts ali-ons' and C++'s extra OnsChannel field.
 */
export function verifyRequest(
  extFields: Record<string, string>,
  body: Buffer | undefined,
  secretKey: string,
): boolean {
  const given = extFields.Signature;
  if (!given) return false;
  const expected = Buffer.from(sign(extFields, body, secretKey));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
