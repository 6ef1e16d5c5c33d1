import { inspect } from 'node:util';
import { Secret } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { mapError } from './errors.js';

/** Builds an error shaped like amqplib's channel / connection close errors. */
function amqpError(code: number, text: string): Error {
  return Object.assign(
    new Error(`Channel closed by server: ${code} (${text.split(' ')[0]}) with message "${text}"`),
    {
      code,
    },
  );
}

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5672`), { code });
}

describe('mapError', () => {
  it.each([
    [amqpError(404, "NOT_FOUND - no exchange 'x' in vhost 'v'"), 'NOT_FOUND', false],
    [
      amqpError(403, "ACCESS_REFUSED - access to exchange 'x' refused for user 'u'"),
      'PERMISSION_DENIED',
      false,
    ],
    [
      amqpError(406, 'PRECONDITION_FAILED - message size 200 is larger than configured max size 100'),
      'MESSAGE_TOO_LARGE',
      false,
    ],
    [
      amqpError(406, "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'q'"),
      'ALREADY_EXISTS',
      false,
    ],
    [amqpError(406, 'PRECONDITION_FAILED - unknown delivery tag 7'), 'UNAVAILABLE', true],
    [
      amqpError(405, "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'q'"),
      'PERMISSION_DENIED',
      false,
    ],
    [
      amqpError(320, 'CONNECTION_FORCED - broker forced connection closure with reason chaos'),
      'UNAVAILABLE',
      true,
    ],
    [amqpError(541, 'INTERNAL_ERROR'), 'UNAVAILABLE', true],
    [amqpError(530, 'NOT_ALLOWED - vhost v not found'), 'NOT_FOUND', false],
    [amqpError(530, "NOT_ALLOWED - access to vhost 'v' refused for user 'u'"), 'PERMISSION_DENIED', false],
    [amqpError(506, 'RESOURCE_ERROR'), 'RESOURCE_EXHAUSTED', true],
    [socketError('ECONNREFUSED'), 'UNAVAILABLE', true],
    [socketError('ECONNRESET'), 'UNAVAILABLE', true],
    [socketError('ENOTFOUND'), 'UNAVAILABLE', true],
    [
      Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      'UNAVAILABLE',
      false,
    ],
    [new Error('Expected ConnectionOpenOk; got <ConnectionClose channel:0>'), 'NOT_FOUND', false],
    [Object.assign(new Error('Channel closed'), { name: 'IllegalOperationError' }), 'UNAVAILABLE', true],
    [new Error('Socket closed abruptly during opening handshake'), 'UNAVAILABLE', true],
    [new RangeError('Encoded headers table exceeds the 64 KiB buffer'), 'INVALID_ARGUMENT', false],
    [new Error('something else'), 'INTERNAL', false],
  ])('%s → %s', (error, code, retryable) => {
    const mapped = mapError(error, 'do it');
    expect(mapped.code).toBe(code);
    expect(mapped.retryable).toBe(retryable);
    expect(mapped.driver).toBe('rabbitmq');
    expect(mapped.cause).toBe(error);
    expect(mapped.message).toMatch(/^do it: /);
  });

  it('a refused login is UNAUTHENTICATED (from the handshake text, which has no code)', () => {
    const error = new Error(
      'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN."',
    );
    expect(mapError(error, 'connect')).toMatchObject({ code: 'UNAUTHENTICATED', retryable: false });
  });

  it('keeps an existing SwitchyardError as it is', () => {
    const mapped = mapError(amqpError(404, 'NOT_FOUND'), 'a');
    expect(mapError(mapped, 'b')).toBe(mapped);
  });

  it('scrubs a registered secret that slipped into native text, in every rendering', () => {
    const secret = new Secret('Tok-9f8e7d6c5b');
    const native = new Error(`weird failure for amqp://u:${secret.reveal()}@h and token ${secret.reveal()}`);
    const mapped = mapError(native, 'connect');
    const rendered = [
      String(mapped),
      mapped.stack,
      inspect(mapped, { depth: 5 }),
      JSON.stringify(mapped),
    ].join('\n');
    expect(rendered).not.toContain(secret.reveal());
  });
});
