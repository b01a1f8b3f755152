// The measurement every throughput scenario makes: two servers under the same load, in
// alternating order round by round (so drift on a shared machine hits both alike), and
// the ratio of their req/s per round.

import type { BenchContext } from "../scenario.js";
import { runLoad, type LoadOptions, type LoadResult } from "./load.js";
import { formatNumber, spread, type Spread } from "./stats.js";

export interface Contender {
  readonly name: string;
  readonly load: LoadOptions;
}

export interface PairRound {
  readonly a: LoadResult;
  readonly b: LoadResult;
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
    const results = new Map<Contender, LoadResult>();
    for (const c of order) results.set(c, await runLoad(c.load));
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
