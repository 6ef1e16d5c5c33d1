// Maps what rocketmq-client-nodejs throws onto portable codes. The client throws three kinds of
// things: ClientException subclasses carrying the RocketMQ status code (40402, 42900, ...),
// grpc-js errors carrying a gRPC status (14 UNAVAILABLE, 4 DEADLINE_EXCEEDED, ...), and plain
// Errors/TypeErrors for its own checks. Startup wraps the real cause one or two levels deep, so
// the cause chain is searched for the innermost classified error.

import {
  ErrorCode,
  isSwitchyardError,
  SwitchyardError,
  type SwitchyardErrorOptions,
} from '@switchyard/core/driver';

export const DRIVER = 'rocketmq';

/** RocketMQ v2 status codes the driver treats specially. */
export const RocketMqCode = Object.freeze({
  BAD_REQUEST: 40000,
  ILLEGAL_INVISIBLE_TIME: 40011,
  INVALID_RECEIPT_HANDLE: 40013,
  MESSAGE_PROPERTY_CONFLICT_WITH_TYPE: 40014,
  UNAUTHORIZED: 40100,
  PAYMENT_REQUIRED: 40200,
  FORBIDDEN: 40300,
  NOT_FOUND: 40400,
  TOPIC_NOT_FOUND: 40402,
  CONSUMER_GROUP_NOT_FOUND: 40403,
  PAYLOAD_TOO_LARGE: 41300,
  MESSAGE_BODY_TOO_LARGE: 41301,
  MESSAGE_BODY_EMPTY: 41302,
  TOO_MANY_REQUESTS: 42900,
  REQUEST_HEADER_FIELDS_TOO_LARGE: 43100,
  MESSAGE_PROPERTIES_TOO_LARGE: 43101,
  INTERNAL_ERROR: 50000,
  NOT_IMPLEMENTED: 50100,
  PROXY_TIMEOUT: 50400,
  UNSUPPORTED: 50500,
});

interface Classified {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly hint?: string;
}

/** A RocketMQ status code (ClientException.code) → portable code. */
export function classifyStatus(code: number): Classified {
  if (code === RocketMqCode.UNAUTHORIZED)
    return {
      code: ErrorCode.UNAUTHENTICATED,
      retryable: false,
      hint: 'check the credentials: accessKey is the role TOKEN, secretKey is the role NAME',
    };
  if (code === RocketMqCode.FORBIDDEN || code === RocketMqCode.PAYMENT_REQUIRED)
    return { code: ErrorCode.PERMISSION_DENIED, retryable: false };
  if (code >= 40400 && code < 40500)
    return {
      code: ErrorCode.NOT_FOUND,
      retryable: false,
      hint: 'create the topic and consumer group on the server (TDMQ console or API); clients cannot',
    };
  if (code === RocketMqCode.PAYLOAD_TOO_LARGE || code === RocketMqCode.MESSAGE_BODY_TOO_LARGE)
    return { code: ErrorCode.MESSAGE_TOO_LARGE, retryable: false };
  if (code === RocketMqCode.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE)
    return {
      code: ErrorCode.INVALID_ARGUMENT,
      retryable: false,
      hint: 'the topic type does not accept this message type (delayMs needs a DELAY topic, orderingKey a FIFO topic); set topicType to match',
    };
  if (code === RocketMqCode.TOO_MANY_REQUESTS) return { code: ErrorCode.RESOURCE_EXHAUSTED, retryable: true };
  if (code >= 40000 && code < 50000) return { code: ErrorCode.INVALID_ARGUMENT, retryable: false };
  if (code === RocketMqCode.NOT_IMPLEMENTED || (code >= 50500 && code < 50600))
    return { code: ErrorCode.UNSUPPORTED, retryable: false };
  if (code >= 50400 && code < 50500) return { code: ErrorCode.TIMEOUT, retryable: true };
  if (code >= 50000 && code < 50100) return { code: ErrorCode.UNAVAILABLE, retryable: true };
  return { code: ErrorCode.INTERNAL, retryable: false };
}

/** A gRPC status (grpc-js error.code) → portable code. */
export function classifyGrpc(code: number): Classified {
  switch (code) {
    case 1: // CANCELLED: the channel went away under the call
    case 10: // ABORTED
    case 14: // UNAVAILABLE
      return { code: ErrorCode.UNAVAILABLE, retryable: true };
    case 4: // DEADLINE_EXCEEDED
      return { code: ErrorCode.TIMEOUT, retryable: true };
    case 8: // RESOURCE_EXHAUSTED: also the 4 MiB receive cap, which retrying does not fix
      return { code: ErrorCode.RESOURCE_EXHAUSTED, retryable: true };
    case 16:
      return { code: ErrorCode.UNAUTHENTICATED, retryable: false };
    case 7:
      return { code: ErrorCode.PERMISSION_DENIED, retryable: false };
    case 5:
      return { code: ErrorCode.NOT_FOUND, retryable: false };
    case 3:
    case 9: // FAILED_PRECONDITION
    case 11: // OUT_OF_RANGE
      return { code: ErrorCode.INVALID_ARGUMENT, retryable: false };
    case 12:
      return { code: ErrorCode.UNSUPPORTED, retryable: false };
    default: // 2 UNKNOWN, 13 INTERNAL, 15 DATA_LOSS: a server fault that may pass
      return { code: ErrorCode.INTERNAL, retryable: true };
  }
}

interface NativeError {
  readonly name?: string;
  readonly message?: string;
  readonly code?: unknown;
  readonly metadata?: unknown;
  readonly cause?: unknown;
}

/** The client's own checks, recognised by their text (they are plain Errors). */
function classifyText(message: string): Classified | undefined {
  if (/body size exceeds the threshold/i.test(message))
    return { code: ErrorCode.MESSAGE_TOO_LARGE, retryable: false };
  if (/message type not match/i.test(message))
    return classifyStatus(RocketMqCode.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE);
  if (/no (writable|readable) message queue/i.test(message))
    return { code: ErrorCode.UNAVAILABLE, retryable: true };
  if (/not running/i.test(message)) return { code: ErrorCode.CLOSED, retryable: false };
  return undefined;
}

function classifyOne(error: unknown): { classified: Classified; native: number | string } | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as NativeError;
  if (typeof e.code === 'number') {
    // ClientException codes are RocketMQ statuses (5 digits); grpc-js codes are 0..16.
    if (e.code >= 10_000) return { classified: classifyStatus(e.code), native: e.code };
    if (e.code <= 16 && e.metadata !== undefined)
      return { classified: classifyGrpc(e.code), native: `grpc ${e.code}` };
  }
  const byText = typeof e.message === 'string' ? classifyText(e.message) : undefined;
  return byText === undefined ? undefined : { classified: byText, native: e.name ?? 'Error' };
}

/**
 * Wraps a native error as a SwitchyardError: `what` says which operation failed (`send to
 * "orders"`). Already-portable errors pass unchanged.
 */
export function mapError(error: unknown, what: string): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  let found: ReturnType<typeof classifyOne>;
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    found = classifyOne(current) ?? found;
    current = (current as NativeError).cause;
  }
  const innermost = innermostMessage(error);
  const classified = found?.classified ?? { code: ErrorCode.INTERNAL, retryable: false };
  const hint = classified.hint === undefined ? '' : ` (${classified.hint})`;
  const options: SwitchyardErrorOptions = {
    driver: DRIVER,
    retryable: classified.retryable,
    cause: error,
    details: found === undefined ? {} : { native: found.native },
  };
  return new SwitchyardError(classified.code, `rocketmq ${what} failed: ${innermost}${hint}`, options);
}

/** The most specific native message: the deepest cause's text. */
function innermostMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  let current: unknown = (error as NativeError | undefined)?.cause;
  for (let depth = 0; current instanceof Error && depth < 8; depth++) {
    message = current.message;
    current = (current as NativeError).cause;
  }
  return message;
}

/** True for a RocketMQ INVALID_RECEIPT_HANDLE (used or expired handle): harmless on ack/nack. */
export function isStaleHandle(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    if ((current as NativeError).code === RocketMqCode.INVALID_RECEIPT_HANDLE) return true;
    current = (current as NativeError).cause;
  }
  return false;
}
