import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHashes, SEPARATOR, splitPayloads } from './batch-split.js';

describe('splitPayloads', () => {
  it('splits when every ### is a separator', () => {
    expect(splitPayloads('a###b###c', 3)).toEqual(['a', 'b', 'c']);
    expect(splitPayloads('###', 2)).toEqual(['', '']);
    expect(splitPayloads('only one', 1)).toEqual(['only one']);
    expect(splitPayloads('with ### inside', 1)).toEqual(['with ### inside']);
  });

  it('refuses a payload that contains ###', () => {
    expect(splitPayloads(['x###y', 'z'].join(SEPARATOR), 2)).toBeUndefined();
  });

  it('refuses a # next to a separator, where the count alone looks right', () => {
    // "a#" + "###" + "b" and "a" + "###" + "#b" are the same text.
    expect(splitPayloads(['a#', 'b'].join(SEPARATOR), 2)).toBeUndefined();
    expect(splitPayloads(['a', '#b'].join(SEPARATOR), 2)).toBeUndefined();
    expect(splitPayloads(['a', '##', 'b'].join(SEPARATOR), 3)).toBeUndefined();
  });

  it('never returns a wrong split (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a#b]{0,6}$/), { minLength: 1, maxLength: 6 }), (payloads) => {
        const got = splitPayloads(payloads.join(SEPARATOR), payloads.length);
        if (got !== undefined) expect(got).toEqual(payloads);
        // Conservative only where it must be: #-free, non-empty payloads always split.
        if (payloads.every((p) => p !== '' && !p.includes('#'))) expect(got).toEqual(payloads);
      }),
      { numRuns: 2_000 },
    );
  });
});

/** The split before it was one scan: count every occurrence (overlapping too), then `split`. */
function twoPassSplit(joined: string, count: number): string[] | undefined {
  if (count <= 0) return undefined;
  if (count === 1) return [joined];
  let occurrences = 0;
  for (let i = joined.indexOf(SEPARATOR); i >= 0; i = joined.indexOf(SEPARATOR, i + 1)) {
    if (++occurrences > count - 1) return undefined;
  }
  if (occurrences !== count - 1) return undefined;
  const parts = joined.split(SEPARATOR);
  return parts.length === count ? parts : undefined;
}

describe('splitPayloads in one scan', () => {
  it('answers as counting and then splitting did, for any text and count (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a#]{0,12}$/), fc.integer({ min: 0, max: 6 }), (joined, count) => {
        expect(splitPayloads(joined, count)).toEqual(twoPassSplit(joined, count));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('escapeHashes', () => {
  it('leaves JSON that means the same and has no #', () => {
    const value = { b: 'x###y#', 'k#': ['#', '\\#'] };
    const text = escapeHashes(JSON.stringify(value));
    expect(text).not.toContain('#');
    expect(JSON.parse(text)).toEqual(value);
  });
});
