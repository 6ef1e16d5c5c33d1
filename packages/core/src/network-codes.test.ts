import { expect, it } from 'vitest';
import { isNetworkErrorCode, isTlsErrorCode } from './driver-entry.js';

it('knows the socket and DNS codes of an unreachable peer, and nothing else', () => {
  for (const code of [
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'EPIPE',
    'ENOTFOUND',
    'EAI_AGAIN',
  ])
    expect(isNetworkErrorCode(code), code).toBe(true);
  for (const code of ['EACCES', 'ERR_INVALID_ARG_TYPE', '', 404, undefined, null])
    expect(isNetworkErrorCode(code), String(code)).toBe(false);
});

it('knows the TLS and certificate codes of a failed handshake, and no socket code', () => {
  for (const code of [
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ERR_SSL_WRONG_VERSION_NUMBER',
    'CERT_HAS_EXPIRED',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
  ])
    expect(isTlsErrorCode(code), code).toBe(true);
  for (const code of ['ECONNRESET', 'ECONNREFUSED', undefined, 7])
    expect(isTlsErrorCode(code), String(code)).toBe(false);
});
