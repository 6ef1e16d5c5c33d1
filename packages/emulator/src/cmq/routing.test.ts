import { describe, expect, it } from 'vitest';
import { bindingKeyMatches, tagsMatch } from './routing.js';

describe('tag filters (protocols/cmq.md §7)', () => {
  it('no filter takes everything; otherwise an intersection is needed', () => {
    expect(tagsMatch([], [])).toBe(true);
    expect(tagsMatch([], ['a'])).toBe(true);
    expect(tagsMatch(['a'], [])).toBe(false);
    expect(tagsMatch(['a', 'b'], ['c', 'b'])).toBe(true);
    expect(tagsMatch(['a'], ['A'])).toBe(false);
  });
});

describe('routing keys', () => {
  it.each([
    ['system.common', 'system.common', true],
    ['system.common', 'app.common', false],
    ['*.common', 'app.common', true],
    ['*.common', 'common', false],
    ['*.common', 'a.b.common', false],
    ['1.#.0', '1.2.3.4.4.2.2.0', true],
    ['1.#.0', '1.0', true],
    ['1.#.0', '1.0.1', false],
    ['#', 'anything.at.all', true],
    ['#', 'x', true],
    ['a.#', 'a', true],
    ['#.z', 'a.b.z', true],
    ['a.*.#', 'a', false],
    ['a.*.#', 'a.b', true],
    ['a', 'a.b', false],
  ])('%s vs %s → %s', (binding, routing, expected) => {
    expect(bindingKeyMatches(binding, routing)).toBe(expected);
  });
});
