import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { defineCapabilities } from './capabilities.js';
import { memoryCapabilities, minimalMemoryCapabilities } from './memory/driver.js';

// V8's own answer to "do these objects share a hidden class", enabled for this file's function only.
setFlagsFromString('--allow-natives-syntax');
const sameHiddenClass = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (
  a: object,
  b: object,
) => boolean;

describe('defineCapabilities', () => {
  it('gives every driver instance capabilities of one hidden class, however many it defines', () => {
    // A spread copy got a new hidden class per call once V8's clone cache for it was warm (the
    // eighth call here): code reading capabilities then deopted at every new broker.
    const made = Array.from({ length: 50 }, (_, i) =>
      defineCapabilities({ ...memoryCapabilities, maxMessageBytes: 1_000 + i }),
    );
    for (const capabilities of made) expect(sameHiddenClass(capabilities, memoryCapabilities)).toBe(true);
  });

  it('copies every field, frozen, and leaves an absent requestReply absent', () => {
    const { requestReply: _, ...without } = memoryCapabilities;
    const copy = defineCapabilities(without);
    expect(Object.isFrozen(copy)).toBe(true);
    expect('requestReply' in copy).toBe(false);
    expect({ ...copy }).toStrictEqual(without);
    expect({ ...defineCapabilities(minimalMemoryCapabilities) }).toStrictEqual({
      ...minimalMemoryCapabilities,
    });
  });
});
