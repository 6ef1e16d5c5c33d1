import { inspect } from 'node:util';
import { Secret } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { mapError } from './errors.js';

function apiError(code: string, message = 'm') {
  return Object.assign(new Error(message), { code, requestId: 'req-1', traceId: 't' });
}

describe('mapError', () => {
  it.each([
    ['AuthFailure.SignatureFailure', 'UNAUTHENTICATED', false],
    ['AuthFailure.SecretIdNotFound', 'UNAUTHENTICATED', false],
    ['AuthFailure.UnauthorizedOperation', 'PERMISSION_DENIED', false],
    ['InvalidParameter.TokenNotFound', 'UNAUTHENTICATED', false],
    ['ResourceNotFound.Topic', 'NOT_FOUND', false],
    ['ResourceNotFound', 'NOT_FOUND', false],
    ['InvalidParameterValue.TopicNotFound', 'NOT_FOUND', false],
    ['InvalidParameter.TenantNotFound', 'NOT_FOUND', false],
    ['ResourceInUse.Subscription', 'ALREADY_EXISTS', false],
    ['RequestLimitExceeded', 'RESOURCE_EXHAUSTED', true],
    ['RequestLimitExceeded.UinLimitExceeded', 'RESOURCE_EXHAUSTED', true],
    ['LimitExceeded.Topics', 'RESOURCE_EXHAUSTED', false],
    ['InternalError', 'UNAVAILABLE', true],
    ['InternalError.SystemError', 'UNAVAILABLE', true],
    ['FailedOperation.SendMessageTimeoutError', 'TIMEOUT', true],
    ['FailedOperation.CreateProducerError', 'UNAVAILABLE', true],
    ['FailedOperation.MaxMessageSizeError', 'MESSAGE_TOO_LARGE', false],
    ['RequestSizeLimitExceeded', 'MESSAGE_TOO_LARGE', false],
    ['FailedOperation.TopicTypeError', 'INVALID_ARGUMENT', false],
    ['FailedOperation.SomethingNew', 'INTERNAL', false],
    ['InvalidParameterValue.AckTime', 'INVALID_ARGUMENT', false],
    ['MissingParameter', 'INVALID_ARGUMENT', false],
    ['UnknownParameter', 'INVALID_ARGUMENT', false],
    ['OperationDenied.ConsumerRunning', 'PERMISSION_DENIED', false],
    ['InvalidAction', 'UNSUPPORTED', false],
    ['UnsupportedOperation.TopicUnack', 'UNSUPPORTED', false],
    ['ResourceUnavailable.FundRequired', 'PERMISSION_DENIED', false],
    ['ServiceUnavailable', 'UNAVAILABLE', true],
    ['Brand.NewCode', 'INTERNAL', false],
  ])('%s → %s (retryable %s)', (apiCode, code, retryable) => {
    const e = mapError(apiError(apiCode), 'SendMessages');
    expect(e).toMatchObject({ code, retryable, driver: 'pulsar-http' });
    expect(e.details).toMatchObject({ action: 'SendMessages', apiCode, requestId: 'req-1' });
    expect(e.message).toContain(apiCode);
    expect(e.message).toContain('SendMessages');
  });

  it('maps transport failures by what the SDK raised', () => {
    const http = Object.assign(new Error('Bad Gateway'), { httpCode: 502, requestId: '' });
    expect(mapError(http, 'ReceiveMessage')).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    const big = Object.assign(new Error('Payload Too Large'), { httpCode: 413 });
    expect(mapError(big, 'SendMessages')).toMatchObject({ code: 'MESSAGE_TOO_LARGE', retryable: false });
    expect(mapError(new Error('network timeout at: http://127.0.0.1:1/'), 'A')).toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
    });
    expect(
      mapError(new Error('request to http://127.0.0.1:1/ failed, reason: socket hang up'), 'A'),
    ).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    expect(
      mapError(
        Object.assign(new Error('invalid json response body'), { name: 'FetchError', type: 'invalid-json' }),
        'A',
      ),
    ).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    expect(
      mapError(new TypeError("Cannot read properties of undefined (reading 'Error')"), 'A'),
    ).toMatchObject({ retryable: true });
    expect(mapError(new Error('The user aborted a request.'), 'A')).toMatchObject({
      code: 'CLOSED',
      retryable: false,
    });
  });

  it('keeps the native error as cause and never prints a registered secret', () => {
    const secret = new Secret('sk-leaky-secret-0123');
    const native = apiError('AuthFailure.SignatureFailure', `bad signature for ${secret.reveal()}`);
    const e = mapError(native, 'SendMessages');
    expect(e.cause).toBe(native);
    const rendered = [String(e), e.stack, inspect(e, { depth: 10 }), JSON.stringify(e)].join('\n');
    expect(rendered).not.toContain('sk-leaky-secret-0123');
  });
});
