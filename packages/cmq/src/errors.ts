// CMQ reply codes (protocols/cmq.md §8) and Tencent Cloud API 3.0 error codes
// (tencentcloud-api.md §3.3) mapped to portable codes. `retryable` is true only where trying the
// same request again can succeed: server faults, throttling, a full queue, the name-reuse guard.

import {
  type ErrorCode,
  InvalidArgumentError,
  MessageTooLargeError,
  NotFoundError,
  SwitchyardError,
  TimeoutError,
  UnavailableError,
} from '@switchyard/core/driver';

export const DRIVER = 'cmq';

/** Codes with special handling by callers. */
export const CMQ_NO_MESSAGE = 7000;
export const CMQ_PARTIAL_DELETE = 6010;
export const CMQ_STALE_HANDLE = 4430;
export const CMQ_NO_SUBSCRIBER = 6030;

export interface CmqReply {
  readonly code: number;
  readonly message: string;
  readonly requestId?: string;
  readonly [field: string]: unknown;
}

/** Native error detail kept as the cause: the reply code, module and request id, never params. */
export class CmqServerError extends Error {
  readonly code: number;
  readonly module: number | undefined;
  readonly requestId: string | undefined;
  readonly action: string;
  constructor(action: string, reply: Pick<CmqReply, 'code' | 'message' | 'requestId'>) {
    super(`${action}: code ${reply.code} ${reply.message}`);
    this.name = 'CmqServerError';
    this.action = action;
    this.code = reply.code;
    this.module = moduleOf(reply.message);
    this.requestId = reply.requestId;
  }
}

/** `(10200)no message` → 10200. */
export function moduleOf(message: string): number | undefined {
  const match = /^\((\d+)\)/.exec(message);
  return match ? Number(match[1]) : undefined;
}

function classify(code: number, module: number | undefined): [ErrorCode, boolean] {
  switch (code) {
    case 4000:
      return module === 10450 ? ['UNAUTHENTICATED', false] : ['INVALID_ARGUMENT', false];
    case 4100:
      return ['UNAUTHENTICATED', false];
    case 4300:
      return ['PERMISSION_DENIED', false];
    case 4400:
    case 4470:
      return ['MESSAGE_TOO_LARGE', false];
    case 4410: // queue holds maxMsgHeapNum messages: consumers will make room
    case 4420: // QPS throttling
    case 4480:
      return ['RESOURCE_EXHAUSTED', true];
    case 4430:
      return ['NOT_FOUND', false];
    case 4440:
      return ['NOT_FOUND', false];
    case 4450:
      return ['RESOURCE_EXHAUSTED', false];
    case 4460:
      return ['ALREADY_EXISTS', false];
    case 4490:
      return module === 10470 ? ['ALREADY_EXISTS', false] : ['INVALID_ARGUMENT', false];
    case 4500:
      // 10480 is the subscriptions-per-topic limit; otherwise a replayed or stale Timestamp.
      return module === 10480 ? ['RESOURCE_EXHAUSTED', false] : ['UNAUTHENTICATED', false];
    case 4510:
      return ['INVALID_ARGUMENT', false];
    case 6030:
      return ['NOT_FOUND', false];
    case 6040: // name reused within 10 s of a delete: passes with time
      return ['UNAVAILABLE', true];
    case 6050:
      return ['INVALID_ARGUMENT', false];
    case 6070: // too many unacked or delayed messages
      return ['RESOURCE_EXHAUSTED', true];
    default:
      return code >= 6000 ? ['UNAVAILABLE', true] : ['INTERNAL', false];
  }
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  UNAUTHENTICATED: ' (check SecretId/SecretKey, SignatureMethod and the machine clock)',
  NOT_FOUND: '',
};

/** A CMQ reply with code ≠ 0 as a portable error. */
export function cmqError(action: string, reply: CmqReply, subject?: string): SwitchyardError {
  const native = new CmqServerError(action, reply);
  const [code, retryable] = classify(reply.code, native.module);
  const about = subject === undefined ? '' : ` for "${subject}"`;
  return new SwitchyardError(
    code,
    `CMQ ${action}${about} failed: ${reply.code} ${reply.message}${HINTS[code] ?? ''}`,
    {
      driver: DRIVER,
      retryable,
      cause: native,
      details: { cmqCode: reply.code, module: native.module, requestId: reply.requestId },
    },
  );
}

/** Socket-level failures: the request may or may not have been processed; retrying is safe for the portable layer. */
export function transportError(action: string, error: unknown, timedOut: boolean): SwitchyardError {
  const code = (error as { code?: string }).code ?? 'UNKNOWN';
  if (timedOut) {
    return new TimeoutError(`CMQ ${action} timed out (${code})`, { driver: DRIVER, cause: error });
  }
  return new UnavailableError(`CMQ ${action} failed on the network: ${code} ${(error as Error).message}`, {
    driver: DRIVER,
    cause: error,
    details: { errno: code },
  });
}

export function httpStatusError(action: string, status: number, text: string): SwitchyardError {
  const body = text.slice(0, 200);
  if (status >= 500 || status === 429) {
    return new UnavailableError(`CMQ ${action} answered HTTP ${status}: ${body}`, { driver: DRIVER });
  }
  return new SwitchyardError('INTERNAL', `CMQ ${action} answered HTTP ${status}: ${body}`, {
    driver: DRIVER,
  });
}

/** Tencent Cloud API 3.0 (management) error codes → portable. */
export function apiError(action: string, error: unknown, subject?: string): SwitchyardError {
  if (error instanceof SwitchyardError) return error;
  const e = error as { code?: string; httpCode?: number; message?: string; requestId?: string };
  const about = subject === undefined ? '' : ` for "${subject}"`;
  const text = `TDMQ ${action}${about} failed: ${e.code ?? (e.httpCode ? `HTTP ${e.httpCode}` : 'network')} ${e.message ?? String(error)}`;
  const options = { driver: DRIVER, cause: error, details: { apiCode: e.code, requestId: e.requestId } };
  const code = e.code ?? '';
  if (code.startsWith('AuthFailure')) return new SwitchyardError('UNAUTHENTICATED', text, options);
  if (code.startsWith('UnauthorizedOperation'))
    return new SwitchyardError('PERMISSION_DENIED', text, options);
  if (code.startsWith('ResourceNotFound')) return new NotFoundError(text, options);
  if (code.startsWith('ResourceInUse')) return new SwitchyardError('ALREADY_EXISTS', text, options);
  if (code.startsWith('RequestLimitExceeded'))
    return new SwitchyardError('RESOURCE_EXHAUSTED', text, { ...options, retryable: true });
  if (code.startsWith('LimitExceeded'))
    return new SwitchyardError('RESOURCE_EXHAUSTED', text, { ...options, retryable: false });
  if (/^(InvalidParameter|MissingParameter|UnknownParameter|InvalidAction|UnsupportedOperation)/.test(code))
    return new InvalidArgumentError(text, options);
  if (code === '' && e.httpCode !== undefined && e.httpCode < 500)
    return new SwitchyardError('INTERNAL', text, options);
  // InternalError, ServiceUnavailable, FailedOperation (e.g. name-reuse guard), network failures.
  return new UnavailableError(text, options);
}

export function tooLarge(size: number, limit: number, what: string): SwitchyardError {
  return new MessageTooLargeError(
    `${what} is ${size} bytes on the wire; CMQ accepts at most ${limit} bytes per message (maxMessageBytes)`,
    { driver: DRIVER, details: { size, limit } },
  );
}
