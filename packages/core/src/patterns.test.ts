import { describe, expect, it } from 'vitest';
import { filterMatches, routingKeyMatches } from './patterns.js';

describe('routing-key patterns', () => {
  it.each([
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.b.x', false],
    ['a.*.c', 'a.c', false],
    ['x.#', 'x', true],
    ['x.#', 'x.y.z', true],
    ['#', '', true],
    ['#', 'a.b', true],
    ['#.c', 'a.b.c', true],
    ['a.#.c', 'a.c', true],
    ['a.#.c', 'a.b.d.c', true],
    ['a.#.c', 'a.b.d', false],
    ['*', 'a.b', false],
    ['a.b', 'a.b', true],
  ])('%s matches %s: %s', (pattern, key, expected) => {
    expect(routingKeyMatches(pattern, key)).toBe(expected);
  });

  it('filters by tags (any of) and routing keys', () => {
    const message = { tags: ['TAG1'], routingKey: 'a.b.c' };
    expect(filterMatches({}, message)).toBe(true);
    expect(filterMatches({ tags: ['TAG1', 'TAG2'] }, message)).toBe(true);
    expect(filterMatches({ tags: ['TAG2'] }, message)).toBe(false);
    expect(filterMatches({ tags: ['*'] }, { tags: [], routingKey: undefined })).toBe(true);
    expect(filterMatches({ routingKeys: ['a.#'] }, message)).toBe(true);
    expect(filterMatches({ tags: ['TAG1'], routingKeys: ['x.#'] }, message)).toBe(false);
  });
});
