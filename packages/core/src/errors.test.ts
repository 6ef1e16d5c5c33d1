import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  ClosedError,
  ErrorCode,
  errorAs,
  errorCode,
  isRetryable,
  NotFoundError,
  SwitchyardError,
  toSwitchyardError,
  UnavailableError,
} from './errors.js';
import { Secret } from './secret.js';

describe('errors', () => {
  it('carry a portable code, a retryable flag, the driver and the native cause', () => {
    const cause = new RangeError('native');
    const error = new UnavailableError('broker down', { driver: 'rabbitmq', cause });
    expect(error).toBeInstanceOf(SwitchyardError);
    expect(error.code).toBe(ErrorCode.UNAVAILABLE);
    expect(error.retryable).toBe(true);
    expect(error.driver).toBe('rabbitmq');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('UnavailableError');
    expect(errorAs(error, RangeError)).toBe(cause);
    expect(errorAs(error, TypeError)).toBeUndefined();
  });

  it('default retryable by code, and the driver can override it', () => {
    expect(new NotFoundError('x').retryable).toBe(false);
    expect(new ClosedError('x').retryable).toBe(false);
    expect(new NotFoundError('x', { retryable: true }).retryable).toBe(true);
    expect(isRetryable(new Error('plain'))).toBe(false);
    expect(errorCode(new Error('plain'))).toBe('INTERNAL');
  });

  it('wraps unknown errors as INTERNAL and keeps portable ones', () => {
    const wrapped = toSwitchyardError(new Error('boom'), 'cmq');
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.message).toContain('boom');
    const portable = new NotFoundError('gone');
    expect(toSwitchyardError(portable)).toBe(portable);
  });

  it('never print a secret: not in the message, util.inspect of the cause chain, or JSON', () => {
    const secret = new Secret('s3cr3t-token-value');
    const native = new Error(
      `auth failed for token s3cr3t-token-value at amqp://role:s3cr3t-token-value@host`,
    );
    const error = new SwitchyardError('UNAUTHENTICATED', `login refused: ${native.message}`, {
      cause: native,
    });
    const rendered = [
      error.message,
      String(error),
      inspect(error, { depth: 5 }),
      JSON.stringify(error),
      `${secret}`,
    ];
    for (const text of rendered) expect(text).not.toContain('s3cr3t-token-value');
    expect(inspect(error)).toContain('[redacted]');
    expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}');
    expect(inspect({ secret })).toContain('Secret([redacted])');
    expect(secret.reveal()).toBe('s3cr3t-token-value');
  });

  it('scrub the native cause chain itself, so printing err.cause alone shows no secret', () => {
    new Secret('echoed-role-token-4d1f');
    // A server that echoes a refused credential back, wrapped twice by the native client.
    const inner = Object.assign(new Error('access key echoed-role-token-4d1f does not exist'), {
      input: 'amqp://u:echoed-role-token-4d1f@host',
      code: 40100,
    });
    const outer = new Error('request failed', { cause: inner });
    const error = new SwitchyardError('UNAUTHENTICATED', 'refused', { cause: outer });
    expect(error.cause).toBe(outer);
    expect(errorAs(error, Error)).toBe(error);
    for (const e of [outer, inner]) {
      for (const text of [e.message, e.stack ?? '', inspect(e, { depth: Infinity }), JSON.stringify(e)])
        expect(text).not.toContain('echoed-role-token-4d1f');
    }
    expect(inner.message).toBe('access key [redacted] does not exist');
    expect(inner.input).toBe('amqp://u:[redacted]@host');
    expect(inner.code).toBe(40100);
  });
});
