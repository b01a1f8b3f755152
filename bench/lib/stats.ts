// Every comparison in the report is min/median/max over rounds: one number would hide how
// noisy a shared machine is.

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
  if (values.length === 0) throw new Error("spread of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

/** A number with a sensible count of digits for a table: 12 345, 123, 12.3, 1.23. */
export function formatNumber(value: number, digits?: number): string {
  const places = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places });
}

/** "median (min–max)", the form every table uses. */
export function formatSpread(s: Spread, digits?: number, unit = ""): string {
  return `${formatNumber(s.median, digits)}${unit} (${formatNumber(s.min, digits)}–${formatNumber(s.max, digits)})`;
}

/** Megabytes of 10^6 bytes, the unit the memory goal is stated in. */
export function formatMB(bytes: number): string {
  return `${formatNumber(bytes / 1e6, 1)} MB`;
}
