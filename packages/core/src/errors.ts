// One error family for every driver. A portable `code` lets services branch without knowing the
// broker; `retryable` tells the portable layer (and callers) whether trying again can help; the
// native error stays reachable as `cause` (the escape hatch for errors). Messages pass through
// redact(), so a secret that slipped into native error text never reaches a log.

import { inspect } from 'node:util';
import { redact } from './secret.js';

/**
 * The portable error codes. Each says what went wrong independently of the broker, and whether
 * the same call may succeed later (`retryable`, which a driver may override per error when it
 * knows better, e.g. an UNAVAILABLE that is a permanent refusal).
 */
export const ErrorCode = {
  /** A call's argument is wrong (bad name, header, size, option). Never retryable: fix the call. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The configuration or URL is wrong; the message names the field. Never retryable. */
  CONFIG: 'CONFIG',
  /** The destination, subscription or group does not exist. Not retryable unless someone creates it. */
  NOT_FOUND: 'NOT_FOUND',
  /** Creating something that exists with other settings. Not retryable. */
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  /** The broker rejected the credentials (wrong, expired, revoked). Not retryable with the same ones. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** Authenticated, but not allowed this operation on this resource. Not retryable. */
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  /** The message (after any envelope) exceeds the broker's limit. Not retryable. */
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  /** The flavour cannot do what was asked (capability missing). Not retryable. */
  UNSUPPORTED: 'UNSUPPORTED',
  /** The broker could not be reached or refused for now (connection lost, blocked). Retryable. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** A deadline passed before the broker answered; the outcome may be unknown. Retryable. */
  TIMEOUT: 'TIMEOUT',
  /** A quota or rate limit was hit (throttled, queue full). Retryable after backing off. */
  RESOURCE_EXHAUSTED: 'RESOURCE_EXHAUSTED',
  /** The broker, producer or consumer was closed by the caller. Not retryable. */
  CLOSED: 'CLOSED',
  /** A bug or an answer the driver did not expect; the cause says more. Not retryable. */
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes that are worth retrying unless the driver says otherwise. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.UNAVAILABLE,
  ErrorCode.TIMEOUT,
  ErrorCode.RESOURCE_EXHAUSTED,
]);

export interface SwitchyardErrorOptions {
  /** The driver that raised it ('memory', 'rabbitmq', ...); absent for portable-layer errors. */
  driver?: string;
  /** Overrides the default for the code (UNAVAILABLE, TIMEOUT and RESOURCE_EXHAUSTED retry). */
  retryable?: boolean;
  /** The native error, kept for `errorAs`-style inspection. Never printed with secrets. */
  cause?: unknown;
  /** Machine-readable extras (the bad field, the limit, the native code). */
  details?: Readonly<Record<string, unknown>>;
}

export class SwitchyardError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly driver: string | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: SwitchyardErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: scrubCauses(options.cause) });
    this.name = 'SwitchyardError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.driver = options.driver;
    this.details = Object.freeze({ ...options.details });
  }

  /** util.inspect (console.log) prints the cause chain too: scrub all of it. */
  [inspect.custom](_depth: number, options: object, inspectFn: typeof inspect = inspect): string {
    const plain = Object.assign(Object.create(Error.prototype) as Error, this);
    plain.stack = this.stack ?? '';
    plain.message = this.message;
    if (this.cause !== undefined)
      Object.defineProperty(plain, 'cause', { value: this.cause, enumerable: false });
    return redact(inspectFn(plain, options));
  }

  /** JSON output carries the portable facts only; the native cause may hold request dumps. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      driver: this.driver,
      details: this.details,
    };
  }
}

/**
 * Scrubs, in place, the text of every native error on a cause chain (message, stack and any other
 * own string field, such as a URL error's `input`): the cause stays the same object for errorAs()
 * and `instanceof`, but printing it on its own (`console.log(err.cause)`, a logger's error
 * serializer that walks causes) can no longer show a secret a server echoed back in it, such as a
 * refused access key. Only Error objects are touched, never what they reference (a client's live
 * credentials must not be rewritten).
 */
function scrubCauses(cause: unknown): unknown {
  const seen = new Set<object>();
  const visit = (error: unknown, depth: number): void => {
    if (!(error instanceof Error) || seen.has(error) || depth > 16) return;
    seen.add(error);
    for (const key of Object.getOwnPropertyNames(error)) {
      const descriptor = Object.getOwnPropertyDescriptor(error, key);
      // Data fields, and the stack (an accessor on some engines); never other getters.
      const value =
        descriptor !== undefined && ('value' in descriptor || key === 'stack')
          ? (error as unknown as Record<string, unknown>)[key]
          : undefined;
      if (typeof value !== 'string') continue;
      const clean = redact(value);
      if (clean === value) continue;
      try {
        if (descriptor?.writable === false && descriptor.configurable)
          Object.defineProperty(error, key, { ...descriptor, value: clean });
        else (error as unknown as Record<string, unknown>)[key] = clean;
      } catch {
        // a frozen native error keeps its text; SwitchyardError's own rendering still scrubs it
      }
    }
    visit(error.cause, depth + 1);
    if (error instanceof AggregateError) for (const inner of error.errors) visit(inner, depth + 1);
  };
  visit(cause, 0);
  return cause;
}

function subclass<C extends ErrorCode>(code: C, name: string) {
  const Sub = class extends SwitchyardError {
    constructor(message: string, options?: SwitchyardErrorOptions) {
      super(code, message, options);
      this.name = name;
    }
  };
  Object.defineProperty(Sub, 'name', { value: name });
  return Sub;
}

export const InvalidArgumentError = subclass(ErrorCode.INVALID_ARGUMENT, 'InvalidArgumentError');
export const ConfigError = subclass(ErrorCode.CONFIG, 'ConfigError');
export const NotFoundError = subclass(ErrorCode.NOT_FOUND, 'NotFoundError');
export const AlreadyExistsError = subclass(ErrorCode.ALREADY_EXISTS, 'AlreadyExistsError');
export const UnauthenticatedError = subclass(ErrorCode.UNAUTHENTICATED, 'UnauthenticatedError');
export const PermissionDeniedError = subclass(ErrorCode.PERMISSION_DENIED, 'PermissionDeniedError');
export const MessageTooLargeError = subclass(ErrorCode.MESSAGE_TOO_LARGE, 'MessageTooLargeError');
export const UnsupportedError = subclass(ErrorCode.UNSUPPORTED, 'UnsupportedError');
export const UnavailableError = subclass(ErrorCode.UNAVAILABLE, 'UnavailableError');
export const TimeoutError = subclass(ErrorCode.TIMEOUT, 'TimeoutError');
export const ResourceExhaustedError = subclass(ErrorCode.RESOURCE_EXHAUSTED, 'ResourceExhaustedError');
export const ClosedError = subclass(ErrorCode.CLOSED, 'ClosedError');
export const InternalError = subclass(ErrorCode.INTERNAL, 'InternalError');

export type InvalidArgumentError = InstanceType<typeof InvalidArgumentError>;
export type ConfigError = InstanceType<typeof ConfigError>;
export type NotFoundError = InstanceType<typeof NotFoundError>;
export type AlreadyExistsError = InstanceType<typeof AlreadyExistsError>;
export type UnauthenticatedError = InstanceType<typeof UnauthenticatedError>;
export type PermissionDeniedError = InstanceType<typeof PermissionDeniedError>;
export type MessageTooLargeError = InstanceType<typeof MessageTooLargeError>;
export type UnsupportedError = InstanceType<typeof UnsupportedError>;
export type UnavailableError = InstanceType<typeof UnavailableError>;
export type TimeoutError = InstanceType<typeof TimeoutError>;
export type ResourceExhaustedError = InstanceType<typeof ResourceExhaustedError>;
export type ClosedError = InstanceType<typeof ClosedError>;
export type InternalError = InstanceType<typeof InternalError>;

export function isSwitchyardError(error: unknown): error is SwitchyardError {
  return error instanceof SwitchyardError;
}

/** The portable code of any error; unknown errors are INTERNAL. */
export function errorCode(error: unknown): ErrorCode {
  return isSwitchyardError(error) ? error.code : ErrorCode.INTERNAL;
}

export function isRetryable(error: unknown): boolean {
  return isSwitchyardError(error) && error.retryable;
}

/**
 * Walks the cause chain for a native error of the given class, gocloud's `ErrorAs`:
 * `errorAs(err, amqplib.IllegalOperationError)`.
 */
export function errorAs<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 16; depth++) {
    if (current instanceof type) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Wraps anything thrown by a driver that is not already portable, so callers see one family. */
export function toSwitchyardError(error: unknown, driver?: string): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  const text = error instanceof Error ? error.message : String(error);
  return new InternalError(`unexpected ${driver ?? 'switchyard'} error: ${text}`, {
    ...(driver === undefined ? {} : { driver }),
    cause: error,
  });
}
