import {
  ConfigError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  TimeoutError,
  UnauthenticatedError,
  UnavailableError,
  UnsupportedError,
} from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeFor, UsageError } from './exit-codes.js';

describe('exitCodeFor', () => {
  it('maps portable error codes to the documented exit codes', () => {
    expect(exitCodeFor(new UsageError('x'))).toBe(1);
    expect(exitCodeFor(new ConfigError('x'))).toBe(2);
    for (const E of [UnavailableError, TimeoutError, UnauthenticatedError, PermissionDeniedError])
      expect(exitCodeFor(new E('x'))).toBe(3);
    expect(exitCodeFor(new NotFoundError('x'))).toBe(4);
    expect(exitCodeFor(new UnsupportedError('x'))).toBe(5);
    expect(exitCodeFor(new InvalidArgumentError('x'))).toBe(5);
    expect(exitCodeFor(new InternalError('x'))).toBe(10);
    expect(exitCodeFor(new Error('not portable'))).toBe(10);
  });

  it('has distinct values', () => {
    const values = Object.values(ExitCode);
    expect(new Set(values).size).toBe(values.length);
  });
});
