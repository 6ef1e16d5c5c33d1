import { describe, expect, it } from 'vitest';
import { type Logger, silentLogger } from '../logger.js';
import { Secret } from '../secret.js';
import { redactingLogger } from './logging.js';

function recorder(): { logger: Logger; lines: Array<[string, object, string | undefined]> } {
  const lines: Array<[string, object, string | undefined]> = [];
  const at = (level: string) => (object: object, message?: string) => lines.push([level, object, message]);
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

describe('redactingLogger', () => {
  it('hides credential fields by name and credential query parameters, never seen as Secrets', () => {
    const { logger, lines } = recorder();
    redactingLogger(logger).info(
      { password: 'pw-never-registered', config: { secretKey: 'sk-never-registered', secretId: 'AKID' } },
      'GET http://h/?region=r&token=tk-never-registered',
    );
    const text = JSON.stringify(lines);
    for (const value of ['pw-never', 'sk-never', 'tk-never']) expect(text).not.toContain(value);
    expect(text).toContain('AKID');
  });

  it('scrubs secret values and URL passwords from messages, fields, nested objects and errors', () => {
    const secret = new Secret('s3cr3t-token-value');
    const { logger, lines } = recorder();
    const log = redactingLogger(logger);
    const error = Object.assign(new Error('auth failed with s3cr3t-token-value'), {
      code: 'UNAUTHENTICATED',
    });
    log.warn(
      {
        url: 'amqp://user:hunter2@host:5672/vhost',
        nested: { deeper: ['token=s3cr3t-token-value', 3] },
        error,
        secret,
        count: 2,
        location: new URL('amqp://user:hunter2@host/'),
      },
      'failed to connect with s3cr3t-token-value',
    );
    const text = JSON.stringify(lines);
    expect(text).not.toContain('s3cr3t-token-value');
    expect(text).not.toContain('hunter2');
    const [level, fields, message] = lines[0]!;
    expect(level).toBe('warn');
    expect(message).toBe('failed to connect with [redacted]');
    expect(fields).toMatchObject({
      url: 'amqp://user:[redacted]@host:5672/vhost',
      nested: { deeper: ['token=[redacted]', 3] },
      error: { type: 'Error', message: 'auth failed with [redacted]', code: 'UNAUTHENTICATED' },
      count: 2,
    });
    expect((fields as { secret: unknown }).secret).toBe(secret);
  });

  it('calls without a message pass none, and every level is wrapped', () => {
    const { logger, lines } = recorder();
    const log = redactingLogger(logger);
    log.debug({ a: 1 });
    log.info({ b: 2 }, 'i');
    log.error({ c: 3 }, 'e');
    expect(lines).toEqual([
      ['debug', { a: 1 }, undefined],
      ['info', { b: 2 }, 'i'],
      ['error', { c: 3 }, 'e'],
    ]);
  });

  it('leaves the silent logger as is (no cost when nothing logs)', () => {
    expect(redactingLogger(silentLogger)).toBe(silentLogger);
  });
});
