import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeUrlPart } from './config.js';

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
