// The older API signature (v1): `HmacSHA1` / `HmacSHA256` over
// METHOD + Host + path + "?" + sorted `k=v` pairs with RAW (decoded) values, base64-encoded, sent as the
// `Signature` parameter in the form body (POST) or the query (GET). The Node SDK still speaks it when
// `profile.signMethod` is set; the signed host includes the port, unlike TC3. Fact sheet §2.3.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Credential } from '../contracts.js';
import { ApiError } from './envelope.js';
import { checkSkew, MAX_SKEW_SECONDS } from './sign-tc3.js';

export type LegacyMethod = 'HmacSHA1' | 'HmacSHA256';

/** The parameters every v1 request carries besides the action's own. */
export const LEGACY_COMMON_PARAMS = new Set([
  'Action',
  'Version',
  'Region',
  'Timestamp',
  'Nonce',
  'SecretId',
  'Signature',
  'SignatureMethod',
  'Token',
  'Language',
  'RequestClient',
]);

export function legacySignString(
  method: string,
  host: string,
  path: string,
  params: ReadonlyMap<string, string>,
): string {
  // JS default sort (UTF-16 code units) is what the SDK uses.
  const keys = [...params.keys()].filter((k) => k !== 'Signature').sort();
  return `${method.toUpperCase()}${host}${path}?${keys.map((k) => `${k}=${params.get(k)}`).join('&')}`;
}

export function legacySignature(secretKey: string, signString: string, method: LegacyMethod): string {
  return createHmac(method === 'HmacSHA1' ? 'sha1' : 'sha256', secretKey)
    .update(Buffer.from(signString, 'utf8'))
    .digest('base64');
}

const SIGNATURE_FAILURE_MSG =
  'The provided credentials could not be validated. Please check your signature is correct.';

export interface LegacyVerifyInput {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly params: ReadonlyMap<string, string>;
  readonly credentials: readonly Credential[];
  readonly nowSec: number;
  /** Allowed |Timestamp - now|, seconds; 0 = unchecked. Default MAX_SKEW_SECONDS (300). */
  readonly maxSkewSeconds?: number;
}

function required(params: ReadonlyMap<string, string>, name: string): string {
  const v = params.get(name);
  if (v === undefined || v === '') {
    throw new ApiError('MissingParameter', `The request is missing a required parameter \`${name}\`.`);
  }
  return v;
}

export function verifyLegacy(input: LegacyVerifyInput): Credential {
  const { params } = input;
  const signature = required(params, 'Signature');
  const secretId = required(params, 'SecretId');
  const timestamp = required(params, 'Timestamp');
  const nonce = required(params, 'Nonce');
  if (!/^\d{1,20}$/.test(nonce)) {
    throw new ApiError('InvalidParameter', 'The value of parameter `Nonce` is not valid.');
  }
  const methodName = params.get('SignatureMethod') ?? 'HmacSHA1';
  if (methodName !== 'HmacSHA1' && methodName !== 'HmacSHA256') {
    throw new ApiError('InvalidParameterValue', 'The value of parameter `SignatureMethod` is not valid.');
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new ApiError('InvalidParameter', 'The value of parameter `Timestamp` is not valid.');
  }
  checkSkew(Number(timestamp), input.nowSec, input.maxSkewSeconds ?? MAX_SKEW_SECONDS);
  const cred = input.credentials.find((c) => c.secretId === secretId);
  if (!cred) throw new ApiError('AuthFailure.SecretIdNotFound', 'The SecretId is not found.');
  const expected = legacySignature(
    cred.secretKey,
    legacySignString(input.method, input.host, input.path, params),
    methodName,
  );
  const a = Buffer.from(expected);
  const b = Buffer.from(signature);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new ApiError('AuthFailure.SignatureFailure', SIGNATURE_FAILURE_MSG);
  }
  return cred;
}
