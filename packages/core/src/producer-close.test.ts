import { describe, expect, it } from 'vitest';
import { faultyMemory } from '../test-kit/faulty-memory.js';
import { connect } from './connect.js';
import { UnavailableError } from './errors.js';
import { registerDriver } from './registry.js';

describe('Producer.close({ timeoutMs })', () => {
  it('rejects sends still retrying when the time is up, instead of waiting out their deadline', async () => {
    registerDriver(
      faultyMemory('send-down', {
        beforeSend() {
          throw new UnavailableError('injected: broker unreachable');
        },
      }),
    );
    const broker = await connect({ driver: 'send-down', name: `producer-close-${process.pid}` });
    // Retries would go on for ten minutes; only the close timeout can end them (else the test times out).
    const producer = await broker.producer('t', {
      retry: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 1_000_000, deadlineMs: 600_000 },
      maxInFlight: 1,
      maxBatchSize: 1,
    });
    const retrying = producer.send('in flight').catch((e: unknown) => e);
    const queued = producer.send('never sent').catch((e: unknown) => e);
    await broker.close({ timeoutMs: 50 });
    expect(await retrying).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(await queued).toMatchObject({ code: 'CLOSED' });
    expect(String(await queued)).toContain('was not sent');
  });
});
