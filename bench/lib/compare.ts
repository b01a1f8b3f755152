// The measurement every throughput scenario makes: two servers under the same load, in
// alternating order round by round (so drift on a shared machine hits both alike), and
// the ratio of their req/s per round.

import type { BenchContext } from "../scenario.js";
import { runLoad, type LoadOptions, type LoadResult } from "./load.js";
import { endWindow, startWindow, type ServerFigures, type ServerWatch } from "./server-watch.js";
import { formatMB, formatNumber, formatSpread, spread, type Spread } from "./stats.js";

export interface Contender {
  readonly name: string;
  readonly load: LoadOptions;
  /** The server under the load, for its event-loop delay and peak RSS. */
  readonly server: ServerWatch;
}

export type RoundResult = LoadResult & ServerFigures;

export interface PairRound {
  readonly a: RoundResult;
  readonly b: RoundResult;
  /** a's req/s over b's. */
  readonly ratio: number;
}

export interface PairSummary {
  readonly a: Spread;
  readonly b: Spread;
  readonly ratio: Spread;
}

/** `warmupS` of load on each first, not recorded: JIT and caches settle before the rounds. */
export async function comparePair(ctx: BenchContext, a: Contender, b: Contender, warmupS: number): Promise<PairRound[]> {
  if (warmupS > 0) {
    for (const c of [a, b]) await runLoad({ ...c.load, durationS: warmupS });
  }
  const rounds: PairRound[] = [];
  for (let round = 0; round < ctx.rounds; round++) {
    const order = round % 2 === 0 ? [a, b] : [b, a];
    const results = new Map<Contender, RoundResult>();
    for (const c of order) {
      await startWindow(c.server);
      const load = await runLoad(c.load);
      results.set(c, { ...load, ...(await endWindow(c.server)) });
    }
    const ra = results.get(a)!;
    const rb = results.get(b)!;
    rounds.push({ a: ra, b: rb, ratio: ra.requestsPerSec / rb.requestsPerSec });
    ctx.log(`round ${round + 1}: ${a.name} ${formatNumber(ra.requestsPerSec)} req/s, ${b.name} ${formatNumber(rb.requestsPerSec)} req/s, ratio ${formatNumber(ra.requestsPerSec / rb.requestsPerSec, 3)}`);
  }
  return rounds;
}

export function summarizePair(rounds: readonly PairRound[]): PairSummary {
  return {
    a: spread(rounds.map((r) => r.a.requestsPerSec)),
    b: spread(rounds.map((r) => r.b.requestsPerSec)),
    ratio: spread(rounds.map((r) => r.ratio)),
  };
}

/** "0.91× (median of 3 rounds)". */
export function formatRatio(ratio: Spread, rounds: number): string {
  return `${formatNumber(ratio.median, 2)}× (median of ${rounds}; ${formatNumber(ratio.min, 2)}–${formatNumber(ratio.max, 2)})`;
}

/**
 * The columns every throughput table has for one contender, each "median (min–max)" over
 * the rounds: req/s, latency p50 and p99, the server's event-loop delay p99, its peak RSS.
 */
export const SERVER_COLUMNS = ["req/s", "p50 (ms)", "p99 (ms)", "event-loop delay p99 (ms)", "peak RSS"] as const;

export function serverCells(results: readonly RoundResult[]): string[] {
  const of = (pick: (r: RoundResult) => number | null, format: (s: Spread) => string) => {
    const values = results.map(pick).filter((v): v is number => v !== null);
    return values.length === results.length ? format(spread(values)) : "–";
  };
  return [
    of((r) => r.requestsPerSec, (s) => formatSpread(s)),
    of((r) => r.latencyMs.p50, (s) => formatSpread(s)),
    of((r) => r.latencyMs.p99, (s) => formatSpread(s)),
    of((r) => r.eventLoopP99Ms, (s) => formatSpread(s)),
    // Peak RSS only grows: the last round's is the peak over the whole run.
    of((r) => r.peakRssBytes, (s) => formatMB(s.max)),
  ];
}
