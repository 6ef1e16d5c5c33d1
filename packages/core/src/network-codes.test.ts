import { expect, it } from 'vitest';
import { isNetworkErrorCode } from './driver-entry.js';

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
