import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeUrlPart, queryToObject } from './config.js';

describe('decodeUrlPart', () => {
  it('decodes percent-escapes', () => {
    expect(decodeUrlPart('p%40ss%25word', 'password')).toBe('p@ss%word');
  });

  it('turns a bad escape into a CONFIG error that names the part and the fix, without the value', () => {
    for (const bad of ['s3cret%ZZ', 's3cret%', 's3cret%E0%A4%A']) {
      const error = (() => {
        try {
          decodeUrlPart(bad, 'password (SecretKey)');
        } catch (e) {
          return e;
        }
      })() as Error;
      expect(error).toMatchObject({
        code: 'CONFIG',
        retryable: false,
        message: expect.stringMatching(
          /URL password \(SecretKey\): bad percent-encoding; write a literal % as %25/,
        ),
        details: { fields: ['URL password (SecretKey)'] },
      });
      expect(`${error.message}${inspect(error)}`).not.toContain('s3cret');
    }
  });
});

describe('queryToObject', () => {
  it('collects repeated parameters, also ones named like Object.prototype members', () => {
    expect(queryToObject(new URL('x://h?a=1&a=2&toString=3&toString=4&b=5'))).toEqual({
      a: ['1', '2'],
      toString: ['3', '4'],
      b: '5',
    });
  });

  it('refuses parameters that would reach the prototype, naming them', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      expect(() => queryToObject(new URL(`x://h?region=r&${key}=a&${key}=b`))).toThrow(
        expect.objectContaining({
          code: 'CONFIG',
          message: expect.stringContaining(`URL query parameter "${key}": no driver has such an option`),
        }),
      );
    }
  });
});
