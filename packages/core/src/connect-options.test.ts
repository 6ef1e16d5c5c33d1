import { describe, expect, it } from 'vitest';
import { faultyMemory } from '../test-kit/faulty-memory.js';
import { connect } from './connect.js';
import { UnavailableError } from './errors.js';
import type { Logger } from './logger.js';
import { registerDriver } from './registry.js';

// connect(url, options): what a URL cannot carry — a logger, a retry policy, telemetry.

describe('connect options', () => {
  it('give a URL connection its retry policy and logger', async () => {
    let sends = 0;
    registerDriver(
      faultyMemory('always-down-memory', {
        beforeSend() {
          sends += 1;
          throw new UnavailableError('injected outage', { driver: 'always-down-memory' });
        },
      }),
    );
    const lines: string[] = [];
    const logger: Logger = {
      debug: (_, m) => lines.push(`debug ${m}`),
      info: (_, m) => lines.push(`info ${m}`),
      warn: (_, m) => lines.push(`warn ${m}`),
      error: (_, m) => lines.push(`error ${m}`),
    };
    const broker = await connect(
      { driver: 'always-down-memory', name: 'opts', retry: { maxAttempts: 5, initialDelayMs: 1 } },
      { logger, retry: { maxAttempts: 2, initialDelayMs: 1 } },
    );
    const producer = await broker.producer('t');
    // The options win over the config object's own retry: two attempts, then the last error.
    await expect(producer.send('x')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(sends).toBe(2);
    expect(lines).toContain('warn send failed; retrying');
    await broker.close();
  });

  it('are validated and name the bad field', async () => {
    await expect(connect('memory://o', { retry: { maxAttempts: 0 } })).rejects.toMatchObject({
      code: 'CONFIG',
      details: { fields: ['connect options.retry.maxAttempts'] },
    });
    await expect(connect('memory://o', { logger: {} as Logger })).rejects.toThrow(/connect options\.logger/);
  });
});
