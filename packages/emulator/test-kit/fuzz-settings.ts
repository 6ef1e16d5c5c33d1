// Shared settings of the emulator's fuzz properties (issue 9: at least 10,000 runs each). CI runs
// them with fixed seeds so a failure reproduces; locally, SWITCHYARD_FUZZ_RUNS raises the run
// count (never below 10,000) and SWITCHYARD_FUZZ_SEED replaces the seeds to explore new inputs:
//   SWITCHYARD_FUZZ_RUNS=200000 SWITCHYARD_FUZZ_SEED=$RANDOM npx vitest run packages/emulator/src/cmq/fuzz.test.ts

export const MIN_FUZZ_RUNS = 10_000;

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Runs per property: 10,000, or more when SWITCHYARD_FUZZ_RUNS asks for more. */
export const FUZZ_RUNS = Math.max(MIN_FUZZ_RUNS, envNumber('SWITCHYARD_FUZZ_RUNS') ?? 0);

/** fast-check parameters: the run count above and a fixed seed (or SWITCHYARD_FUZZ_SEED). */
export function fuzzParameters(seed: number): { numRuns: number; seed: number } {
  return { numRuns: FUZZ_RUNS, seed: envNumber('SWITCHYARD_FUZZ_SEED') ?? seed };
}

/** A vitest timeout for a property whose 10,000 runs take about `msAt10k` on a 2-core CI box. */
export function fuzzTimeout(msAt10k: number): number {
  return Math.ceil((msAt10k * FUZZ_RUNS) / MIN_FUZZ_RUNS);
}
