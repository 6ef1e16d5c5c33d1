/** One figure a benchmark measured. Ratios compare against a raw client measured in the same run. */
export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Client CPU (process user + system time) per message, µs, beside a throughput. */
  readonly cpuUsPerMsg?: number;
  readonly note?: string;
}

export interface BenchSection {
  readonly title: string;
  readonly rows: readonly BenchRow[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
