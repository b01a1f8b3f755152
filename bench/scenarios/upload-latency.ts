// Upload latency in sync mode: how much waiting for the replica adds to a PUT, against the
// store's own latency for an object of the size litepaste uploads.

import type { BenchContext, Scenario, ScenarioResult } from "../scenario.js";
import { runPutLoad } from "../lib/proc-load.js";
import { benchScript, runNode } from "../lib/proc-node.js";
import { isWalSegmentPut } from "../lib/store-proxy.js";
import { startProxiedServer } from "../lib/store-session.js";
import { endWindow, startWindow, watchOf, type ServerFigures } from "../lib/server-watch.js";
import { formatMB, formatSpread, quantile, spread } from "../lib/stats.js";

const SAMPLES = 200;
const BODY_BYTES = 1024;
const GOAL_RATIO = 2;
const BASELINE_SCRIPT = benchScript(import.meta.url, "../lib/store-put-baseline.js");

interface Round {
  readonly litepaste: readonly number[];
  readonly store: readonly number[];
  readonly segmentBytes: number;
  readonly segments: number;
  readonly server: ServerFigures;
}

async function measure(ctx: BenchContext): Promise<Round> {
  const session = await startProxiedServer(ctx, "sync-latency", { DB_SYNC_MODE: "sync" });
  try {
    const before = session.proxy.requests.length;
    const watch = watchOf(session.server);
    await startWindow(watch);
    const load = await runPutLoad({ url: session.server.url, connections: 1, amount: SAMPLES, bodyBytes: BODY_BYTES }, ctx.workDir);
    const server = await endWindow(watch);
    const segments = session.proxy.requests.slice(before).filter(isWalSegmentPut);
    const segmentBytes = quantile(segments.map((r) => r.bytes), 0.5);
    const baseline = await runNode(BASELINE_SCRIPT, [session.replicaUrl, String(SAMPLES), String(segmentBytes)], ctx.store.env, ctx.workDir);
    return { litepaste: load.answers.map((a) => a.latencyMs), store: JSON.parse(baseline.stdout) as number[], segmentBytes, segments: segments.length, server };
  } finally {
    await session.stop();
  }
}

export const uploadLatencyScenario: Scenario = {
  id: "upload-latency",
  title: "Upload latency, sync mode",
  async run(ctx): Promise<ScenarioResult> {
    const rounds: Round[] = [];
    for (let round = 1; round <= ctx.rounds; round++) {
      ctx.log(`upload latency (sync): round ${round}/${ctx.rounds}`);
      rounds.push(await measure(ctx));
    }
    const stat = (pick: (r: Round) => readonly number[], q: number) => spread(rounds.map((r) => quantile(pick(r), q)));
    const ratios = spread(rounds.map((r) => quantile(r.litepaste, 0.5) / quantile(r.store, 0.5)));
    const ratios99 = spread(rounds.map((r) => quantile(r.litepaste, 0.99) / quantile(r.store, 0.99)));
    return {
      settings: {
        "sync mode": "sync",
        clients: "1 (autocannon, one connection, separate process)",
        "paste size": `${BODY_BYTES} bytes`,
        samples: `${SAMPLES} PUTs per round, and ${SAMPLES} store PutObjects`,
        "segment size": `${formatSpread(spread(rounds.map((r) => r.segmentBytes)), 0)} bytes (median upload of each round: median (min–max))`,
        store: ctx.store.description,
        "server event-loop delay p99": `${formatSpread(spread(rounds.map((r) => r.server.eventLoopP99Ms ?? Number.NaN)), 2)} ms (litepaste_event_loop_delay_seconds over each round)`,
        "server peak RSS": rounds.every((r) => r.server.peakRssBytes !== null) ? formatMB(Math.max(...rounds.map((r) => r.server.peakRssBytes!))) : "–",
      },
      tables: [
        {
          caption: `Latency in ms: median (min–max) over ${ctx.rounds} rounds of each round's percentile`,
          columns: ["what", "p50", "p99"],
          rows: [
            ["litepaste PUT, sync mode", formatSpread(stat((r) => r.litepaste, 0.5), 2), formatSpread(stat((r) => r.litepaste, 0.99), 2)],
            ["store PutObject of a segment-sized object", formatSpread(stat((r) => r.store, 0.5), 2), formatSpread(stat((r) => r.store, 0.99), 2)],
            ["ratio litepaste / store", formatSpread(ratios, 2), formatSpread(ratios99, 2)],
          ],
        },
      ],
      charts: [],
      goals: [
        {
          name: "sync-mode PUT p50 vs the store's PutObject p50",
          goal: `≤ ${GOAL_RATIO}×`,
          measured: `${ratios.median.toFixed(2)}× (median of ${ctx.rounds} rounds)`,
          met: ratios.median <= GOAL_RATIO,
        },
      ],
      notes: [
        "litepaste: the latency autocannon measures for each PUT of a 1 KiB paste, one client, one request at a time, against a server in " +
          "DB_SYNC_MODE=sync: the answer comes once the commit's WAL frames are in a segment object the store acknowledged.",
        "Store: the same number of PutObject calls made one after another with the AWS SDK (configured as litepaste configures it) from a " +
          "separate process, each timed around `send`, for an object of the median size of the segments litepaste uploaded in that round; " +
          "one unmeasured PUT first opens the connection.",
        "Both go through the same counting proxy in front of the store (one extra local hop each), which also gives the segment sizes.",
      ],
    };
  },
};
