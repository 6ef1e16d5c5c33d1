import { describe, expect, it } from 'vitest';
import { MAX_DELAY_MS, pulsarCapabilities, UNBATCHED_MAX_BATCH } from './capabilities.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './config.js';

describe('capabilities by subscription type (unit)', () => {
  it('Shared: delay, native dead letter and attempt counts, no ordering keys', () => {
    const caps = pulsarCapabilities({ subscriptionType: 'Shared' });
    expect(Object.isFrozen(caps)).toBe(true);
    expect(caps).toMatchObject({
      headers: 'native',
      binaryBodies: 'native',
      delayedSend: 'native',
      maxDelayMs: MAX_DELAY_MS,
      nack: 'native',
      nackDelay: 'emulated',
      extend: false,
      visibilityTimeout: true,
      deadLetter: 'native',
      deliveryAttempt: 'native',
      orderingKeys: false,
      tagFilter: false,
      routingKeyFilter: false,
      maxTagsPerMessage: 0,
      batchSend: true,
      maxBatchSize: 1_000,
      fanOut: true,
      startFrom: true,
      maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    });
  });

  it('KeyShared adds ordering keys and keeps the broker-side counts', () => {
    expect(pulsarCapabilities({ subscriptionType: 'KeyShared' })).toMatchObject({
      orderingKeys: true,
      delayedSend: 'native',
      deadLetter: 'native',
      deliveryAttempt: 'native',
    });
  });

  it.each(['Failover', 'Exclusive'] as const)(
    '%s: ordered, but no delay, and dead letters and attempts counted by the portable layer',
    (subscriptionType) => {
      expect(pulsarCapabilities({ subscriptionType })).toMatchObject({
        orderingKeys: true,
        delayedSend: false,
        deadLetter: 'emulated',
        deliveryAttempt: 'process',
      });
    },
  );

  it('batching off: no batch send, a bounded number of concurrent sends per call', () => {
    expect(pulsarCapabilities({ batching: false })).toMatchObject({
      batchSend: false,
      maxBatchSize: UNBATCHED_MAX_BATCH,
    });
    expect(pulsarCapabilities({ batchingMaxMessages: 200, maxMessageBytes: 1024 })).toMatchObject({
      maxBatchSize: 200,
      maxMessageBytes: 1024,
    });
  });
});
