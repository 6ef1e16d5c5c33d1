import { inspect } from 'node:util';
import { Secret } from '@switchyard/core/driver';
import {
  BadRequestException,
  InternalErrorException,
  NotFoundException,
  PayloadTooLargeException,
  ProxyTimeoutException,
  TooManyRequestsException,
  UnauthorizedException,
} from 'rocketmq-client-nodejs';
import { describe, expect, it } from 'vitest';
import { classifyGrpc, classifyStatus, isStaleHandle, mapError, RocketMqCode } from './errors.js';

function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

describe('error mapping', () => {
  it('maps client exceptions to portable codes and retryability', () => {
    const cases: Array<[Error, string, boolean]> = [
      [new UnauthorizedException(40100, 'bad signature'), 'UNAUTHENTICATED', false],
      [new NotFoundException(40402, 'No topic route info'), 'NOT_FOUND', false],
      [new NotFoundException(40403, 'group missing'), 'NOT_FOUND', false],
      [new BadRequestException(40011, 'illegal invisible time'), 'INVALID_ARGUMENT', false],
      [new BadRequestException(40014, 'type conflict'), 'INVALID_ARGUMENT', false],
      [new PayloadTooLargeException(41301, 'too large'), 'MESSAGE_TOO_LARGE', false],
      [new TooManyRequestsException(42900, 'slow down'), 'RESOURCE_EXHAUSTED', true],
      [new InternalErrorException(50001, 'oops'), 'UNAVAILABLE', true],
      [new ProxyTimeoutException(50400, 'proxy timeout'), 'TIMEOUT', true],
    ];
    for (const [native, code, retryable] of cases) {
      const mapped = mapError(native, 'send to "t"');
      expect(mapped, native.message).toMatchObject({ code, retryable, driver: 'rocketmq' });
      expect(mapped.cause).toBe(native);
      expect(mapped.message).toContain(native.message);
    }
  });

  it('maps gRPC statuses', () => {
    expect(mapError(grpcError(14, 'No connection established'), 'receive')).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    expect(mapError(grpcError(4, 'Deadline exceeded'), 'receive')).toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
    });
    expect(mapError(grpcError(16, 'no'), 'x')).toMatchObject({ code: 'UNAUTHENTICATED', retryable: false });
    expect(mapError(grpcError(12, 'no'), 'x')).toMatchObject({ code: 'UNSUPPORTED' });
    expect(classifyGrpc(13)).toEqual({ code: 'INTERNAL', retryable: true });
  });

  it('finds the real cause inside startup wrappers', () => {
    const inner = new UnauthorizedException(40100, 'signature mismatch');
    const mid = new Error('Failed to fetch topic routes after 3 attempts', { cause: inner });
    const outer = Object.assign(new Error('Startup the rocketmq client failed'), { cause: mid });
    const mapped = mapError(outer, 'producer for "t"');
    expect(mapped.code).toBe('UNAUTHENTICATED');
    expect(mapped.message).toContain('signature mismatch');
    expect(mapped.message).toContain('role TOKEN');
  });

  it("recognises the client's own checks by their text", () => {
    expect(
      mapError(new TypeError('Message body size exceeds the threshold, max size=10 bytes'), 's').code,
    ).toBe('MESSAGE_TOO_LARGE');
    expect(
      mapError(new TypeError('Current message type not match with topic accept message types'), 's'),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false });
    expect(mapError(new Error('Producer is not running now'), 's').code).toBe('CLOSED');
    expect(mapError(new Error('something else'), 's')).toMatchObject({ code: 'INTERNAL', retryable: false });
  });

  it('classifies the status code ranges', () => {
    expect(classifyStatus(40300).code).toBe('PERMISSION_DENIED');
    expect(classifyStatus(43101).code).toBe('INVALID_ARGUMENT');
    expect(classifyStatus(50500).code).toBe('UNSUPPORTED');
    expect(classifyStatus(RocketMqCode.NOT_IMPLEMENTED).code).toBe('UNSUPPORTED');
    expect(classifyStatus(12345).code).toBe('INTERNAL');
  });

  it('tells a stale receipt handle apart', () => {
    expect(isStaleHandle(new BadRequestException(40013, 'receipt handle is expired'))).toBe(true);
    expect(isStaleHandle(new BadRequestException(40000, 'bad'))).toBe(false);
  });

  it('never renders a secret that leaked into native text', () => {
    const secret = new Secret('super-role-name-123');
    const native = new UnauthorizedException(40100, `bad key ${secret.reveal()}`);
    const mapped = mapError(native, 'x');
    const rendered = [
      String(mapped),
      mapped.stack,
      inspect(mapped, { depth: 5 }),
      JSON.stringify(mapped),
    ].join('\n');
    expect(rendered).not.toContain('super-role-name-123');
  });
});
