// Maps what pulsar-client throws onto portable codes. Its promises reject with plain Errors (or
// strings) whose text is "<operation>: <C++ result name>", e.g. "Failed to create producer:
// AuthenticationError", "Failed to send message: TimeOut" (the C++ client spells it TimeOut);
// the result name is the only machine-readable part, so it is parsed out and classified here.

import { ErrorCode, isSwitchyardError, SwitchyardError } from '@switchyard/core/driver';

export const DRIVER = 'pulsar';

interface Classified {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly hint?: string;
}

const unavailable: Classified = { code: ErrorCode.UNAVAILABLE, retryable: true };
const closed: Classified = { code: ErrorCode.CLOSED, retryable: false };
const invalid: Classified = { code: ErrorCode.INVALID_ARGUMENT, retryable: false };
const unsupported: Classified = { code: ErrorCode.UNSUPPORTED, retryable: false };
const exhausted: Classified = { code: ErrorCode.RESOURCE_EXHAUSTED, retryable: true };

/** The C++ client's result names (lib/Result.cc), some with a "Result" prefix, → portable codes. */
const RESULTS: Readonly<Record<string, Classified>> = Object.freeze({
  AuthenticationError: {
    code: ErrorCode.UNAUTHENTICATED,
    retryable: false,
    hint: 'check the role token (`token`) and that the URL points at the right cluster',
  },
  ErrorGettingAuthenticationData: {
    code: ErrorCode.UNAUTHENTICATED,
    retryable: false,
    hint: 'the client could not read the token',
  },
  AuthorizationError: {
    code: ErrorCode.PERMISSION_DENIED,
    retryable: false,
    hint: 'grant the role produce/consume permission on the namespace or topic',
  },
  TopicNotFound: {
    code: ErrorCode.NOT_FOUND,
    retryable: false,
    hint: 'create the topic first (TDMQ console or pulsar-admin) or enable topic auto-creation',
  },
  SubscriptionNotFound: { code: ErrorCode.NOT_FOUND, retryable: false },
  ConsumerNotFound: { code: ErrorCode.NOT_FOUND, retryable: false },
  TimeOut: { code: ErrorCode.TIMEOUT, retryable: true },
  ConnectError: unavailable,
  LookupError: unavailable,
  ServiceUnitNotReady: unavailable,
  NotConnected: unavailable,
  ReadError: unavailable,
  BrokerMetadataError: unavailable,
  BrokerPersistenceError: unavailable,
  ChecksumError: unavailable,
  Retryable: unavailable,
  Disconnected: unavailable,
  Interrupted: unavailable,
  TooManyLookupRequestException: exhausted,
  ProducerQueueIsFull: exhausted,
  MemoryBufferIsFull: exhausted,
  ProducerBlockedQuotaExceededError: exhausted,
  ProducerBlockedQuotaExceededException: exhausted,
  MessageTooBig: {
    code: ErrorCode.MESSAGE_TOO_LARGE,
    retryable: false,
    hint: "larger than the broker's maxMessageSize",
  },
  AlreadyClosed: closed,
  ConsumerNotInitialized: closed,
  ProducerNotInitialized: closed,
  ProducerFenced: closed,
  TopicTerminated: { code: ErrorCode.CLOSED, retryable: false, hint: 'the topic was terminated' },
  ConsumerBusy: {
    code: ErrorCode.ALREADY_EXISTS,
    retryable: false,
    hint: 'an Exclusive subscription already has a consumer; use subscriptionType Shared, KeyShared or Failover',
  },
  ProducerBusy: { code: ErrorCode.ALREADY_EXISTS, retryable: false },
  InvalidConfiguration: { code: ErrorCode.CONFIG, retryable: false },
  InvalidUrl: { code: ErrorCode.CONFIG, retryable: false, hint: 'the URL must be pulsar://host:port' },
  InvalidTopicName: invalid,
  InvalidMessage: invalid,
  IncompatibleSchema: invalid,
  ConsumerAssignError: invalid,
  CumulativeAcknowledgementNotAllowedError: invalid,
  OperationNotSupported: unsupported,
  UnsupportedVersionError: unsupported,
  NotAllowedError: unsupported,
  CryptoError: { code: ErrorCode.INTERNAL, retryable: false },
  UnknownError: { code: ErrorCode.INTERNAL, retryable: true },
});

/** The C++ result name in a pulsar-client error text, or undefined. */
export function resultName(text: string): string | undefined {
  const match = /:\s*(?:Result)?([A-Za-z]+)\s*$/.exec(text.trim());
  const name = match?.[1];
  return name !== undefined && name in RESULTS ? name : undefined;
}

export function classifyResult(name: string): Classified | undefined {
  return RESULTS[name];
}

/** Checks the addon makes before any network call ("Service URL is required", "Ack timeout should be"). */
function classifyText(text: string): Classified | undefined {
  if (/Service URL|serviceUrl/i.test(text)) return { code: ErrorCode.CONFIG, retryable: false };
  if (/Ack timeout should be|NAck timeout should be|is required and must be/i.test(text)) return invalid;
  return undefined;
}

/**
 * Wraps a pulsar-client error as a SwitchyardError; `what` names the operation (`send to
 * "persistent://…"`). Already-portable errors pass unchanged; the native error stays the cause.
 */
export function mapError(error: unknown, what: string): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  const text = error instanceof Error ? error.message : String(error);
  const name = resultName(text);
  const classified = (name === undefined ? undefined : RESULTS[name]) ??
    classifyText(text) ?? { code: ErrorCode.INTERNAL, retryable: false };
  const hint = classified.hint === undefined ? '' : ` (${classified.hint})`;
  return new SwitchyardError(classified.code, `pulsar ${what} failed: ${text}${hint}`, {
    driver: DRIVER,
    retryable: classified.retryable,
    cause: error,
    details: name === undefined ? {} : { native: name },
  });
}

/** True when an error only says the consumer or client is already closed (harmless on settle). */
export function isAlreadyClosed(error: unknown): boolean {
  const text = error instanceof Error ? error.message : String(error);
  const name = resultName(text);
  return name === 'AlreadyClosed' || name === 'ConsumerNotInitialized';
}
