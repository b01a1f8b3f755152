// Small statistics for the replication scenarios: percentiles of samples and the
// min/median/max over rounds that every table shows.

import { performance } from "node:perf_hooks";

/** Wall-clock epoch milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The q-quantile (0..1) of the samples, nearest-rank; NaN when there are none. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread {
  return { min: quantile(values, 0), median: quantile(values, 0.5), max: quantile(values, 1) };
}

/** "12.3 / 14.0 / 20.1": min / median / max with `digits` decimals. */
export function formatSpread(s: Spread, digits = 1): string {
  return [s.min, s.median, s.max].map((v) => v.toFixed(digits)).join(" / ");
}
