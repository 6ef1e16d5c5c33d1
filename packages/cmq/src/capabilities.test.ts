import { describe, expect, it } from 'vitest';
import { type CapabilityInputs, cmqCapabilities, defaultCmqCapabilities } from './capabilities.js';

const base: CapabilityInputs = {
  model: 'queue',
  topicFilter: 'tag',
  bodyMode: 'raw',
  manageTopology: false,
  deadLetter: 'emulated',
  nackMode: 'visibility',
  maxMessageBytes: 65_536,
};

describe('cmq capabilities', () => {
  it('default: queue model, raw text, nothing CMQ cannot do natively claimed', () => {
    expect(defaultCmqCapabilities).toMatchObject({
      headers: 'none',
      binaryBodies: false,
      delayedSend: 'native',
      nack: false,
      nackDelay: false,
      extend: false,
      visibilityTimeout: false,
      deadLetter: 'emulated',
      deliveryAttempt: 'native',
      fanOut: false,
      tagFilter: false,
      routingKeyFilter: false,
      maxBatchSize: 16,
      maxBatchBytes: 1_048_576,
      startFrom: false,
      orderingKeys: false,
    });
    expect(Object.isFrozen(defaultCmqCapabilities)).toBe(true);
  });

  it('envelope mode carries headers and binary bodies', () => {
    expect(cmqCapabilities({ ...base, bodyMode: 'envelope' })).toMatchObject({
      headers: 'envelope',
      binaryBodies: 'envelope',
    });
  });

  it('raw mode advertises the queue limit; envelope mode what any body fits in its envelope', () => {
    expect(cmqCapabilities(base).maxMessageBytes).toBe(65_536);
    expect(cmqCapabilities({ ...base, bodyMode: 'envelope' }).maxMessageBytes).toBe(46_080);
    // (L - min(4096, L/4)) × 3/4 for smaller and larger queue limits.
    expect(cmqCapabilities({ ...base, bodyMode: 'envelope', maxMessageBytes: 2_048 }).maxMessageBytes).toBe(
      1_152,
    );
    expect(
      cmqCapabilities({ ...base, bodyMode: 'envelope', maxMessageBytes: 1_048_576 }).maxMessageBytes,
    ).toBe(783_360);
  });

  it('topic model fans out, filters by its filter type, has no delay on publish', () => {
    const tag = cmqCapabilities({ ...base, model: 'topic' });
    expect(tag).toMatchObject({
      fanOut: true,
      tagFilter: true,
      routingKeyFilter: false,
      maxTagsPerMessage: 5,
    });
    expect(tag).toMatchObject({ delayedSend: false, maxDelayMs: 0 });
    const routing = cmqCapabilities({ ...base, model: 'topic', topicFilter: 'routing' });
    expect(routing).toMatchObject({ tagFilter: false, routingKeyFilter: true, maxTagsPerMessage: 0 });
  });

  it('management enables visibility timeouts and native dead-lettering; requeue enables nack', () => {
    expect(cmqCapabilities({ ...base, manageTopology: true, deadLetter: 'native' })).toMatchObject({
      visibilityTimeout: true,
      deadLetter: 'native',
    });
    expect(
      cmqCapabilities({ ...base, model: 'topic', bodyMode: 'envelope', nackMode: 'requeue' }),
    ).toMatchObject({
      nack: 'emulated',
      nackDelay: 'native',
      maxDelayMs: 6_048_000_000,
      extend: false,
    });
  });
});
