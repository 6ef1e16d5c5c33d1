// The order in which a round's sides run. A plain rotation (round r starts at side r) keeps the
// same side right before each side in every round: with sides A, B, C, D, C always follows B. When
// a phase leaves work behind for the next one (garbage and recompiles in this process, queue and
// disk work in the broker), a rotation charges it to the same neighbour every round, and the
// bias does not shrink with more rounds. A Williams design balances it: over one full cycle every
// side runs right after every other side equally often (once for an even count, twice over the
// doubled cycle of an odd count), and every side runs in every position.

/** Rounds in one balanced cycle: n for an even number of sides, 2n for an odd one. */
export function balancedCycle(sides: number): number {
  return sides % 2 === 0 ? sides : 2 * sides;
}

/** The sides of round `round`, in the order to run them. */
export function roundOrder<T>(sides: readonly T[], round: number): T[] {
  const n = sides.length;
  if (n < 2) return [...sides];
  // First row 0, 1, n-1, 2, n-2, …; row r adds r (mod n). For an odd n the second half of the
  // cycle runs the first half's rows backwards.
  const row = round % n;
  const order = Array.from({ length: n }, (_, j) => {
    const base = j === 0 ? 0 : j % 2 === 1 ? (j + 1) / 2 : n - j / 2;
    return sides[(base + row) % n]!;
  });
  return n % 2 === 1 && round % (2 * n) >= n ? order.reverse() : order;
}
