import { describe, expect, it } from 'vitest';
import { apiError, CmqServerError, cmqError, moduleOf } from './errors.js';

const reply = (code: number, message: string) => ({ code, message, requestId: 'r-1' });

describe('CMQ error mapping', () => {
  it.each([
    [4000, '(10000)invalid request parameters', 'INVALID_ARGUMENT', false],
    [4000, "(10450)secret id doesn't begin with AKID", 'UNAUTHENTICATED', false],
    [4100, '(10030)authentication failed', 'UNAUTHENTICATED', false],
    [4300, '(10040)charge overdue', 'PERMISSION_DENIED', false],
    [4400, '(10230)exceed maximum message size', 'MESSAGE_TOO_LARGE', false],
    [4470, '(10300)total message size exceed', 'MESSAGE_TOO_LARGE', false],
    [4410, '(10240)reach maximum retention number', 'RESOURCE_EXHAUSTED', true],
    [4420, '(10250)qps throttling', 'RESOURCE_EXHAUSTED', true],
    [4430, '(10260)receipt handle is invalid', 'NOT_FOUND', false],
    [4440, '(10100)queue is not existed, or deleted', 'NOT_FOUND', false],
    [4440, '(10600)topic is not existed, or deleted', 'NOT_FOUND', false],
    [4450, '(10220)number of queues reached the limit', 'RESOURCE_EXHAUSTED', false],
    [4460, '(4460)queue is already existed', 'ALREADY_EXISTS', false],
    [4490, '(10470)subscription already exists', 'ALREADY_EXISTS', false],
    [4500, '(10100)timestamp out of window', 'UNAUTHENTICATED', false],
    [6000, '(10050)server internal error', 'UNAVAILABLE', true],
    [6020, '(10290)batch delete message failed', 'UNAVAILABLE', true],
    [6040, '(10660)name re-used within 10 s', 'UNAVAILABLE', true],
    [6070, '(10690)too many unacked', 'RESOURCE_EXHAUSTED', true],
    [1234, '(1)odd', 'INTERNAL', false],
  ])('%i %s → %s (retryable %s)', (code, message, portable, retryable) => {
    const e = cmqError('SendMessage', reply(code, message), 'orders');
    expect(e.code).toBe(portable);
    expect(e.retryable).toBe(retryable);
    expect(e.message).toContain('"orders"');
    expect(e.message).toContain(String(code));
    expect(e.cause).toBeInstanceOf(CmqServerError);
    expect((e.cause as CmqServerError).module).toBe(moduleOf(message));
    expect(e.details).toMatchObject({ cmqCode: code, requestId: 'r-1' });
  });

  it('reads the module from "(module)text"', () => {
    expect(moduleOf('(10200)no message')).toBe(10200);
    expect(moduleOf('no module')).toBeUndefined();
  });
});

describe('Tencent Cloud API error mapping', () => {
  it.each([
    ['AuthFailure.SignatureFailure', 'UNAUTHENTICATED', false],
    ['AuthFailure.SecretIdNotFound', 'UNAUTHENTICATED', false],
    ['UnauthorizedOperation', 'PERMISSION_DENIED', false],
    ['ResourceNotFound.Topic', 'NOT_FOUND', false],
    ['ResourceInUse.Queue', 'ALREADY_EXISTS', false],
    ['RequestLimitExceeded', 'RESOURCE_EXHAUSTED', true],
    ['LimitExceeded.Topics', 'RESOURCE_EXHAUSTED', false],
    ['InvalidParameterValue', 'INVALID_ARGUMENT', false],
    ['MissingParameter', 'INVALID_ARGUMENT', false],
    ['InternalError', 'UNAVAILABLE', true],
    ['FailedOperation', 'UNAVAILABLE', true],
  ])('%s → %s', (code, portable, retryable) => {
    const e = apiError('CreateCmqQueue', { code, message: 'x', requestId: 'r' }, 'q');
    expect(e.code).toBe(portable);
    expect(e.retryable).toBe(retryable);
  });

  it('network failures (no code) are retryable UNAVAILABLE', () => {
    expect(apiError('CreateCmqQueue', new Error('connect ECONNREFUSED'))).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
  });
});
