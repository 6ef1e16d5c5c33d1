import { describe, expect, it } from 'vitest';
import { balancedCycle, roundOrder } from '../bench/round-order.js';

/** How often each ordered pair (a right before b) occurs within the rounds of one cycle. */
function adjacency(n: number): Map<string, number> {
  const sides = Array.from({ length: n }, (_, i) => i);
  const pairs = new Map<string, number>();
  for (let round = 0; round < balancedCycle(n); round++) {
    const order = roundOrder(sides, round);
    for (let j = 1; j < n; j++) {
      const key = `${order[j - 1]}>${order[j]}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
  }
  return pairs;
}

describe('bench round order', () => {
  it.each([2, 3, 4, 5, 6])(
    'runs every side once per round and in every position over a cycle (%i sides)',
    (n) => {
      const sides = Array.from({ length: n }, (_, i) => i);
      const positions = sides.map(() => new Set<number>());
      for (let round = 0; round < balancedCycle(n); round++) {
        const order = roundOrder(sides, round);
        expect([...order].sort((a, b) => a - b)).toEqual(sides);
        for (const [position, side] of order.entries()) positions[side]!.add(position);
      }
      for (const seen of positions) expect(seen.size).toBe(n);
    },
  );

  it.each([3, 4, 5, 6])('puts every side right after every other side equally often (%i sides)', (n) => {
    const pairs = adjacency(n);
    // Every ordered pair of distinct sides occurs, and all equally often: a rotation would give
    // only the n - 1 pairs (i, i + 1).
    expect(pairs.size).toBe(n * (n - 1));
    expect(new Set(pairs.values()).size).toBe(1);
  });
});
