// V8's own answers for tests of what V8 compiles and keeps (shape anchors: core's shape-anchor.ts):
// natives syntax and gc() enabled for the functions made here only, not for the test's own code.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'vitest';

setFlagsFromString('--allow-natives-syntax');
setFlagsFromString('--expose-gc');

/** A full (mark-compact) collection. */
export const gc = runInNewContext('gc') as () => void;

/** Runs `f` and has TurboFan compile it with the feedback of those runs. */
export const optimize = new Function(
  'f',
  '%PrepareFunctionForOptimization(f); f(); f(); %OptimizeFunctionOnNextCall(f); f();',
) as (f: () => unknown) => void;

export const turbofanned = new Function('f', 'return %ActiveTierIsTurbofan(f)') as (
  f: () => unknown,
) => boolean;

/** Both objects have one hidden class (map). */
export const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (
  a: object,
  b: object,
) => boolean;

/**
 * `make` (made per test, so no other code shares its feedback) is compiled by TurboFan and stays
 * so through full GCs: optimized code is thrown away ("weak objects") when a map it embeds dies.
 */
export function staysOptimized(make: () => unknown): void {
  optimize(make);
  expect(turbofanned(make)).toBe(true);
  // Maps that optimized code uses are kept a couple of GCs after their last use: more than that.
  for (let i = 0; i < 6; i++) gc();
  expect(turbofanned(make)).toBe(true);
}
