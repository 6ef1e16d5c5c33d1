import { inspect } from 'node:util';
import { Secret } from '@switchyard/core/driver';
import { describe, expect, it } from 'vitest';
import { mapError, resultName } from './errors.js';

describe('pulsar-client error mapping (unit)', () => {
  it.each([
    ['Failed to create producer: AuthenticationError', 'UNAUTHENTICATED', false],
    ['Failed to create consumer: AuthorizationError', 'PERMISSION_DENIED', false],
    ['Failed to create producer: TopicNotFound', 'NOT_FOUND', false],
    ['Failed to create consumer: SubscriptionNotFound', 'NOT_FOUND', false],
    ['Failed to send message: TimeOut', 'TIMEOUT', true],
    ['Failed to create producer: ConnectError', 'UNAVAILABLE', true],
    ['Failed to create producer: LookupError', 'UNAVAILABLE', true],
    ['Failed to create producer: ServiceUnitNotReady', 'UNAVAILABLE', true],
    ['Failed to send message: NotConnected', 'UNAVAILABLE', true],
    ['Failed to send message: ResultDisconnected', 'UNAVAILABLE', true],
    ['Failed to send message: ProducerQueueIsFull', 'RESOURCE_EXHAUSTED', true],
    ['Failed to send message: ResultMemoryBufferIsFull', 'RESOURCE_EXHAUSTED', true],
    ['Failed to send message: ProducerBlockedQuotaExceededError', 'RESOURCE_EXHAUSTED', true],
    ['Failed to send message: MessageTooBig', 'MESSAGE_TOO_LARGE', false],
    ['Failed to send message: AlreadyClosed', 'CLOSED', false],
    ['Failed to send message: TopicTerminated', 'CLOSED', false],
    ['Failed to create consumer: ConsumerBusy', 'ALREADY_EXISTS', false],
    ['Failed to create producer: InvalidTopicName', 'INVALID_ARGUMENT', false],
    ['Failed to create producer: InvalidUrl', 'CONFIG', false],
    ['Failed to create consumer: OperationNotSupported', 'UNSUPPORTED', false],
    ['Failed to create consumer: ResultNotAllowedError', 'UNSUPPORTED', false],
    ['Failed to send message: UnknownError', 'INTERNAL', true],
    ['Service URL is required and must be specified as a string', 'CONFIG', false],
    ['Ack timeout should be 0 or greater than or equal to 10000', 'INVALID_ARGUMENT', false],
    ['something nobody expected', 'INTERNAL', false],
  ])('%s → %s (retryable %s)', (text, code, retryable) => {
    const native = new Error(text);
    const error = mapError(native, 'send to "persistent://t/n/x"');
    expect(error).toMatchObject({ code, retryable, driver: 'pulsar' });
    expect(error.cause).toBe(native);
    expect(error.message).toContain('pulsar send to "persistent://t/n/x" failed: ');
    expect(error.message).toContain(text);
  });

  it('reads rejections that are plain strings too, and records the native result name', () => {
    const error = mapError('Failed to acknowledge: AlreadyClosed', 'ack on "t"');
    expect(error).toMatchObject({ code: 'CLOSED', details: { native: 'AlreadyClosed' } });
    expect(resultName('Failed to receive message: TimeOut')).toBe('TimeOut');
    expect(resultName('no result here')).toBeUndefined();
  });

  it('adds a hint that says what to fix', () => {
    expect(mapError(new Error('Failed to create producer: AuthenticationError'), 'x').message).toMatch(
      /check the role token/,
    );
    expect(mapError(new Error('Failed to create consumer: ConsumerBusy'), 'x').message).toMatch(
      /Exclusive subscription already has a consumer/,
    );
  });

  it('never shows a token that slipped into native text', () => {
    const token = new Secret('eyJhbGciOiJIUzI1NiJ9.pulsar-unit-secret.sig');
    const error = mapError(new Error(`Failed to connect with ${token.reveal()}: ConnectError`), 'x');
    expect(error.message).not.toContain('pulsar-unit-secret');
    expect(inspect(error)).not.toContain('pulsar-unit-secret');
    expect(JSON.stringify(error)).not.toContain('pulsar-unit-secret');
  });
});
