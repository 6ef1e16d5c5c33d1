import {
  AlreadyExistsError,
  ClosedError,
  ConfigError,
  InternalError,
  InvalidArgumentError,
  isNetworkErrorCode,
  isSwitchyardError,
  isTlsErrorCode,
  MessageTooLargeError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  type SwitchyardError,
  TimeoutError,
  UnauthenticatedError,
  UnavailableError,
} from '@switchyard/core/driver';

import { DeadlinePassed } from './deadline.js';

export const DRIVER = 'rabbitmq';

// AMQP 0-9-1 reply codes (amqplib puts them on `code` of channel and connection errors).
const CONTENT_TOO_LARGE = 311;
const NO_ROUTE = 312;
const CONNECTION_FORCED = 320;
const ACCESS_REFUSED = 403;
const NOT_FOUND = 404;
const RESOURCE_LOCKED = 405;
const PRECONDITION_FAILED = 406;
const NOT_ALLOWED = 530;
const RESOURCE_ERROR = 506;
const INTERNAL_ERROR = 541;

interface NativeError {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly name?: unknown;
}

/**
 * Maps anything amqplib or the socket throws to a portable error with a code, `retryable` and the
 * native error as `cause`. `what` says what was being done ("publish to exchange \"orders\"").
 * The native text is kept (it names the exchange or queue); core's SwitchyardError redacts any
 * registered secret from it, and amqplib never puts the password in its messages.
 */
export function mapError(error: unknown, what: string): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as NativeError;
  const text = typeof e.message === 'string' ? e.message : String(error);
  const options = { driver: DRIVER, cause: error, details: { nativeCode: e.code ?? null } };
  const say = (summary: string) => `${what}: ${summary} (${text})`;
  if (error instanceof DeadlinePassed) {
    return new TimeoutError(
      say('the broker did not answer in time (a resource alarm blocking the connection, or a dead socket)'),
      options,
    );
  }
  const reply = replyCode(e, text);

  if (reply !== undefined) {
    switch (reply) {
      case ACCESS_REFUSED:
        if (/login was refused|authentication/i.test(text))
          return new UnauthenticatedError(say('the broker refused the user name or password'), options);
        return new PermissionDeniedError(say('the user lacks permission'), options);
      case NOT_FOUND:
        return new NotFoundError(say('not found'), options);
      case NOT_ALLOWED:
        if (/vhost .* not found/i.test(text)) return new NotFoundError(say('no such vhost'), options);
        return new PermissionDeniedError(say('not allowed'), options);
      case PRECONDITION_FAILED:
        if (/larger than configured max size|message size/i.test(text))
          return new MessageTooLargeError(say('the broker refused the message size'), options);
        if (/inequivalent arg/i.test(text))
          return new AlreadyExistsError(
            say('it already exists with other settings; delete it or use the same settings'),
            options,
          );
        if (/unknown delivery tag/i.test(text))
          return new UnavailableError(say('the channel closed on a stale delivery tag'), options);
        return new ConfigError(say('precondition failed'), options);
      case CONTENT_TOO_LARGE:
        return new MessageTooLargeError(say('the message is too large'), options);
      case NO_ROUTE:
        return new NotFoundError(say('no queue is bound for this routing key'), options);
      case RESOURCE_LOCKED:
        return new PermissionDeniedError(say('locked by an exclusive consumer or queue'), options);
      case RESOURCE_ERROR:
        return new ResourceExhaustedError(say('the broker is out of a resource'), options);
      case CONNECTION_FORCED:
      case INTERNAL_ERROR:
        return new UnavailableError(say('the broker closed the connection'), options);
      default:
        if (reply >= 500) return new UnavailableError(say('protocol or broker error'), options);
        return new InternalError(say(`AMQP reply ${reply}`), options);
    }
  }
  if (isNetworkErrorCode(e.code)) {
    return new UnavailableError(say('the broker cannot be reached'), options);
  }
  if (isTlsErrorCode(e.code)) {
    return new UnavailableError(say('TLS handshake failed; check the certificate settings'), {
      ...options,
      retryable: false,
    });
  }
  if (/Expected ConnectionOpenOk; got <ConnectionClose/.test(text)) {
    // RabbitMQ closes the handshake with NOT_ALLOWED and amqplib drops its text: this is either a
    // vhost that does not exist or one the user may not use.
    return new NotFoundError(say('the vhost does not exist or the user may not open it'), options);
  }
  if (e.name === 'IllegalOperationError' || /channel closed|connection closed|channel ended/i.test(text)) {
    return new UnavailableError(say('the connection or channel closed'), options);
  }
  if (/socket closed|heartbeat timeout|connect ETIMEDOUT|handshake/i.test(text)) {
    return new UnavailableError(say('the connection was lost'), options);
  }
  if (error instanceof RangeError && /table|headers|arguments/i.test(text)) {
    return new InvalidArgumentError(say('headers too large for one AMQP frame table'), options);
  }
  return new InternalError(say('unexpected error'), options);
}

/** The AMQP reply code from `code`, or from amqplib's "...: 404 (NOT-FOUND) with message ..." text. */
function replyCode(e: NativeError, text: string): number | undefined {
  if (typeof e.code === 'number') return e.code;
  const match = /: (\d{3}) \([A-Z-]+\)/.exec(text);
  return match === null ? undefined : Number(match[1]);
}

export function closedError(what: string): ClosedError {
  return new ClosedError(`${what} is closed`, { driver: DRIVER });
}

export function unavailable(what: string, cause?: unknown): UnavailableError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new UnavailableError(`${what}: the broker is not reachable${detail}`, {
    driver: DRIVER,
    ...(cause === undefined ? {} : { cause }),
  });
}
