// What every benchmark scenario gives the runner (bench/run.ts), which turns the results
// into docs/benchmarks.md and renders the charts into docs/img/.

import type { TopLevelSpec } from "vega-lite";

/** Where the S3 scenarios put their objects: a local s3rver, or a real bucket (bench/README.md). */
export interface BenchObjectStore {
  /** A replica URL for DB_REPLICA_URL under a prefix of its own, e.g. `s3://bucket/bench/lag-1`. */
  url(prefix: string): string;
  /** Environment the litepaste process needs to reach the store (endpoint, credentials). */
  readonly env: Readonly<Record<string, string>>;
  /** "s3rver on 127.0.0.1" or the bucket's endpoint, without credentials. */
  readonly description: string;
}

export interface BenchContext {
  /** How many times each measurement is repeated (min/median/max over them); ≥ 3. */
  readonly rounds: number;
  /** `--soak`: the 10-minute memory soak is run too. */
  readonly soak: boolean;
  /** A fresh directory the scenario may fill; removed after the run. */
  readonly workDir: string;
  readonly store: BenchObjectStore;
  /** Progress on stderr: the run is long and should say what it is doing. */
  log(message: string): void;
}

export interface BenchTable {
  readonly caption: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<ReadonlyArray<string | number>>;
}

export interface BenchChart {
  /** File name under docs/img/, e.g. `get-throughput.svg`. */
  readonly file: string;
  /** Alt text for the image in docs/benchmarks.md. */
  readonly title: string;
  readonly spec: TopLevelSpec;
}

export interface BenchGoal {
  /** e.g. "GET 1 KiB vs bare Fastify". */
  readonly name: string;
  /** e.g. "≥ 0.8×". */
  readonly goal: string;
  /** The measured value as shown, e.g. "0.91× (median of 3)". */
  readonly measured: string;
  readonly met: boolean;
}

export interface ScenarioResult {
  /** Settings the numbers depend on: sync interval, connections, paste size, duration. */
  readonly settings: Readonly<Record<string, string>>;
  readonly tables: readonly BenchTable[];
  readonly charts: readonly BenchChart[];
  readonly goals: readonly BenchGoal[];
  /** Plain sentences: what was measured, how, and for a missed goal the bottleneck found. */
  readonly notes: readonly string[];
}

export interface Scenario {
  /** Used by `npm run bench -- --only <id>`. */
  readonly id: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
