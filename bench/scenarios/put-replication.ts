// PUT throughput with asynchronous replication to the store vs without replication, at 10
// and 50 connections.

import path from "node:path";
import type { BenchGoal, Scenario } from "../scenario.js";
import { spreadBars, type SpreadBar } from "../lib/charts.js";
import { comparePair, formatRatio, SERVER_COLUMNS, serverCells, summarizePair, type PairRound } from "../lib/compare.js";
import { missedGoalNote } from "../lib/cpu-profile.js";
import { runLoad } from "../lib/load.js";
import { PUT_1KIB } from "../lib/pastes.js";
import { watchOf } from "../lib/server-watch.js";
import { serveCli } from "../../testkit/litepaste-process.js";
import { assertReplicationHealthy, replicaEnv } from "../lib/replicated-server.js";
import { formatNumber, formatSpread, spread } from "../lib/stats.js";

const CONNECTIONS = [10, 50];
const DURATION_S = 4;
const WARMUP_S = 2;
const GOAL = 0.9;
/** async p99 / off p99. */
const P99_GOAL = 1.25;
/** What replication may add to the event-loop delay p99, in ms. */
const EVENT_LOOP_GOAL_MS = 5;

export const putReplication: Scenario = {
  id: "put-replication",
  title: "PUT throughput: async replication vs none",
  async run(ctx) {
    const replicatedEnv = () => ({ DB_PATH: path.join(ctx.workDir, "async.db"), ...replicaEnv(ctx.store, "put-async") });
    const replicated = await serveCli(replicatedEnv(), { logFile: path.join(ctx.workDir, "async.log"), ready: "healthy" });
    const plainEnv = () => ({ DB_PATH: path.join(ctx.workDir, "off.db") });
    const plain = await serveCli(plainEnv(), { logFile: path.join(ctx.workDir, "off.log"), ready: "healthy" });
    const load = (url: string, connections: number) => ({ url, connections, durationS: DURATION_S, requests: [PUT_1KIB] });
    const results = new Map<number, PairRound[]>();
    let replication;
    try {
      for (const connections of CONNECTIONS) {
        ctx.log(`${connections} connections`);
        const async = { name: "async", load: load(replicated.url, connections), server: watchOf(replicated) };
        const off = { name: "off", load: load(plain.url, connections), server: watchOf(plain) };
        results.set(connections, await comparePair(ctx, async, off, WARMUP_S));
      }
      replication = await assertReplicationHealthy(replicated.url);
    } finally {
      await Promise.all([replicated.stop(), plain.stop()]);
    }
    const goals: BenchGoal[] = [];
    const rows: Array<Array<string | number>> = [];
    const roundRows: Array<Array<string | number>> = [];
    const bars: SpreadBar[] = [];
    let missedAt: number | undefined;
    for (const [connections, rounds] of results) {
      const s = summarizePair(rounds);
      rows.push([String(connections), "async", ...serverCells(rounds.map((r) => r.a))], [String(connections), "off", ...serverCells(rounds.map((r) => r.b))]);
      rounds.forEach((r, i) => roundRows.push([String(connections), String(i + 1), formatNumber(r.a.requestsPerSec), formatNumber(r.b.requestsPerSec), formatNumber(r.ratio, 3)]));
      const group = `${connections} connections`;
      bars.push({ group, series: "replication async", ...s.a }, { group, series: "replication off", ...s.b });
      const p99 = spread(rounds.map((r) => r.a.latencyMs.p99 / r.b.latencyMs.p99));
      const loop = spread(rounds.map((r) => (r.a.eventLoopP99Ms ?? Number.NaN) - (r.b.eventLoopP99Ms ?? Number.NaN)));
      const met = s.ratio.median >= GOAL;
      if (!met) missedAt ??= connections;
      goals.push(
        { name: `PUT 1 KiB at ${connections} connections, async replication vs off: req/s`, goal: `≥ ${GOAL}×`, measured: formatRatio(s.ratio, rounds.length), met },
        { name: `PUT 1 KiB at ${connections} connections, async vs off: latency p99`, goal: `≤ ${P99_GOAL}×`, measured: formatRatio(p99, rounds.length), met: p99.median <= P99_GOAL },
        {
          name: `PUT 1 KiB at ${connections} connections: event-loop delay p99 replication adds`,
          goal: `≤ ${EVENT_LOOP_GOAL_MS} ms`,
          measured: `${formatSpread(loop, 1)} ms (median (min–max) of ${rounds.length})`,
          met: loop.median <= EVENT_LOOP_GOAL_MS,
        },
      );
    }
    const notes = [
      "Timed: 2xx answers per second over each autocannon run (every answer must be 2xx). The ratio is replication on / off within the same round.",
      "Event-loop delay: litepaste_event_loop_delay_seconds p99 of each server, scraped right after each run (the scrape just before the run starts its window); what replication adds is async's minus off's, round by round. Peak RSS: VmHWM from /proc, the peak since the server started.",
      `After the rounds the replicating server's /healthz said: healthy ${String(replication.healthy)}, lag ${String(replication.lagSeconds)} s, last error ${String(replication.lastError)}.`,
      "The store (s3rver) runs on the same 2-core machine, so its CPU is charged to the replicating server's throughput; a remote bucket would take that load elsewhere.",
    ];
    if (missedAt !== undefined) {
      const connections = missedAt;
      notes.push(
        await missedGoalNote({
          ctx,
          goal: `PUT with async replication at ${connections} connections`,
          slow: { name: "replication async", start: (nodeArgs) => serveCli(replicatedEnv(), { logFile: path.join(ctx.workDir, "async.log"), nodeArgs, ready: "healthy" }) },
          fast: { name: "replication off", start: (nodeArgs) => serveCli(plainEnv(), { logFile: path.join(ctx.workDir, "off.log"), nodeArgs, ready: "healthy" }) },
          load: (url) => runLoad(load(url, connections)),
        }),
      );
    }
    return {
      settings: {
        connections: CONNECTIONS.join(", "),
        "duration per measurement": `${DURATION_S} s, after a ${WARMUP_S} s warm-up per server and connection count`,
        body: "1 KiB of log text, `PUT /`",
        replication: `DB_SYNC_MODE=async, DB_SYNC_INTERVAL default (1 s), to ${ctx.store.description}`,
        logging: "LOG_LEVEL unset (info, one line per request), stdout written to a file",
      },
      tables: [
        { caption: "Median (min–max) over the rounds; peak RSS over all of them", columns: ["connections", "replication", ...SERVER_COLUMNS], rows },
        { caption: "Each round", columns: ["connections", "round", "async req/s", "off req/s", "ratio"], rows: roundRows },
      ],
      charts: [
        {
          file: "put-replication.svg",
          title: "PUT 1 KiB req/s with async replication and without, by connections",
          spec: spreadBars("PUT 1 KiB req/s (median; whiskers: min–max)", "req/s", bars, { separateScales: true }),
        },
      ],
      goals,
      notes,
    };
  },
};
