// Node's socket and DNS error codes that mean "the peer cannot be reached right now": a driver or
// store maps them to UNAVAILABLE, retryable. One list, so every driver judges a dead broker alike.

const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** True for a Node TLS or certificate error code: the handshake failed, retrying will not help. */
export function isTlsErrorCode(code: unknown): boolean {
  return typeof code === 'string' && /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code);
}

/** True for a Node socket or DNS error code (`error.code`) that says the peer is unreachable. */
export function isNetworkErrorCode(code: unknown): boolean {
  return typeof code === 'string' && NETWORK_CODES.has(code);
}
