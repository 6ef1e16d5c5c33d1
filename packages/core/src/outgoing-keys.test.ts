import { describe, expect, it } from 'vitest';
import { defineCapabilities } from './capabilities.js';
import { memoryCapabilities } from './memory/driver.js';
import { Message } from './message.js';
import type { Delivery } from './message-types.js';
import { prepareOutgoing } from './outgoing.js';

const prepare = (message: Parameters<typeof prepareOutgoing>[0]) =>
  prepareOutgoing(message, memoryCapabilities, 'memory');

describe('message keys', () => {
  it('keeps key as the first of keys, whichever is given', () => {
    expect(prepare({ body: 'x', keys: ['a', 'b'] })).toMatchObject({ key: 'a', keys: ['a', 'b'] });
    expect(prepare({ body: 'x', key: 'a', keys: ['a', 'b'] })).toMatchObject({ key: 'a', keys: ['a', 'b'] });
    const single = prepare({ body: 'x', key: 'a' });
    expect(single.key).toBe('a');
    expect(single.keys).toBeUndefined();
    expect(prepare({ body: 'x', keys: [] }).key).toBeUndefined();
  });

  it('refuses keys that disagree with key, or are not non-empty strings', () => {
    expect(() => prepare({ body: 'x', key: 'b', keys: ['a', 'b'] })).toThrow(
      /must be the first of message.keys/,
    );
    expect(() => prepare({ body: 'x', keys: 'a' as never })).toThrow(/array of strings/);
    expect(() => prepare({ body: 'x', keys: ['a', ''] })).toThrow(/keys\[1\] must be a non-empty string/);
    expect(() => prepare({ body: 'x', keys: Array.from({ length: 33 }, (_, i) => `k${i}`) })).toThrow(
      /at most 32/,
    );
  });

  it('refuses more keys than the flavour carries (capability maxKeysPerMessage) instead of dropping them', () => {
    const one = defineCapabilities({ ...memoryCapabilities, maxKeysPerMessage: 1 });
    const none = defineCapabilities({ ...memoryCapabilities, maxKeysPerMessage: 0 });
    expect(prepareOutgoing({ body: 'x', keys: ['a'] }, one, 'one').key).toBe('a');
    expect(() => prepareOutgoing({ body: 'x', keys: ['a', 'b'] }, one, 'one')).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/2 keys.*at most 1/) }),
    );
    expect(() => prepareOutgoing({ body: 'x', key: 'a' }, none, 'raw')).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/carries none/) }),
    );
    expect(prepareOutgoing({ body: 'x' }, none, 'raw').key).toBeUndefined();
  });

  it('a received message lists its keys, or its one key', () => {
    const delivery = {
      id: 'm',
      body: new Uint8Array(),
      headers: {},
      tags: [],
      key: 'a',
    } as unknown as Delivery;
    const settler = {} as never;
    expect(new Message(delivery, 1, settler).keys).toEqual(['a']);
    expect(new Message({ ...delivery, keys: ['a', 'b'] }, 1, settler).keys).toEqual(['a', 'b']);
    expect(new Message({ ...delivery, key: undefined }, 1, settler).keys).toEqual([]);
  });
});
