// PUT throughput in sync mode (answer once the replica holds the commit) vs async mode, at
// 1, 10, 50 and 64 concurrent clients, both replicating to the store.

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

// 10 and 50 as in put-replication; 64 is where the goal is set.
const CLIENTS = [1, 10, 50, 64];
const DURATION_S = 3;
const WARMUP_S = 1;
const GOAL = 0.5;
const GOAL_CLIENTS = 64;

export const putSync: Scenario = {
  id: "put-sync",
  title: "PUT throughput: sync mode vs async mode",
  async run(ctx) {
    const env = (mode: "sync" | "async") => ({ DB_PATH: path.join(ctx.workDir, `${mode}.db`), ...replicaEnv(ctx.store, `put-${mode}-mode`, mode) });
    const sync = await serveCli(env("sync"), { logFile: path.join(ctx.workDir, "sync.log"), ready: "healthy" });
    const async = await serveCli(env("async"), { logFile: path.join(ctx.workDir, "async.log"), ready: "healthy" });
    const load = (url: string, connections: number) => ({ url, connections, durationS: DURATION_S, requests: [PUT_1KIB] });
    const results = new Map<number, PairRound[]>();
    try {
      for (const clients of CLIENTS) {
        ctx.log(`${clients} client(s)`);
        const contenders = [
          { name: "sync", load: load(sync.url, clients), server: watchOf(sync) },
          { name: "async", load: load(async.url, clients), server: watchOf(async) },
        ] as const;
        results.set(clients, await comparePair(ctx, ...contenders, WARMUP_S));
      }
      await assertReplicationHealthy(sync.url);
      await assertReplicationHealthy(async.url);
    } finally {
      await Promise.all([sync.stop(), async.stop()]);
    }

    const rows: Array<Array<string | number>> = [];
    const serverRows: Array<Array<string | number>> = [];
    const roundRows: Array<Array<string | number>> = [];
    const bars: SpreadBar[] = [];
    let goal: BenchGoal | undefined;
    for (const [clients, rounds] of results) {
      const s = summarizePair(rounds);
      const latency = (pick: (r: PairRound) => number) => formatSpread(spread(rounds.map(pick)));
      rows.push([String(clients), formatSpread(s.a), formatSpread(s.b), formatSpread(s.ratio, 2), latency((r) => r.a.latencyMs.p50), latency((r) => r.a.latencyMs.p99)]);
      serverRows.push([String(clients), "sync", ...serverCells(rounds.map((r) => r.a))], [String(clients), "async", ...serverCells(rounds.map((r) => r.b))]);
      rounds.forEach((r, i) => roundRows.push([String(clients), String(i + 1), formatNumber(r.a.requestsPerSec), formatNumber(r.b.requestsPerSec), formatNumber(r.ratio, 3)]));
      const group = `${clients} client${clients === 1 ? "" : "s"}`;
      bars.push({ group, series: "sync", ...s.a }, { group, series: "async", ...s.b });
      if (clients === GOAL_CLIENTS) {
        goal = { name: `PUT 1 KiB at ${clients} clients, sync vs async`, goal: `≥ ${GOAL}×`, measured: formatRatio(s.ratio, rounds.length), met: s.ratio.median >= GOAL };
      }
    }
    const notes = [
      "Timed: 2xx answers per second over each autocannon run (every answer must be 2xx, so a sync-mode 503 fails the run). The ratio is sync / async within the same round.",
      "In sync mode each answer waits for the segment upload that holds its commit; concurrent uploads wait together, so throughput should grow with the number of clients.",
      "The store (s3rver) runs on the same 2-core machine, so its CPU is charged to both modes; a remote bucket adds network round trips that sync mode waits for and async mode does not.",
    ];
    if (goal && !goal.met) {
      notes.push(
        await missedGoalNote({
          ctx,
          goal: `Sync mode at ${GOAL_CLIENTS} clients`,
          slow: { name: "sync mode", start: (nodeArgs) => serveCli(env("sync"), { logFile: path.join(ctx.workDir, "sync.log"), nodeArgs, ready: "healthy" }) },
          fast: { name: "async mode", start: (nodeArgs) => serveCli(env("async"), { logFile: path.join(ctx.workDir, "async.log"), nodeArgs, ready: "healthy" }) },
          load: (url) => runLoad(load(url, GOAL_CLIENTS)),
        }),
      );
    }
    return {
      settings: {
        clients: CLIENTS.join(", "),
        "duration per measurement": `${DURATION_S} s, after a ${WARMUP_S} s warm-up per server and client count`,
        body: "1 KiB of log text, `PUT /`",
        replication: `both to ${ctx.store.description}; DB_SYNC_INTERVAL default (1 s), DB_SYNC_TIMEOUT default (10 s)`,
        logging: "LOG_LEVEL unset (info, one line per request), stdout written to a file",
      },
      tables: [
        { caption: "req/s and sync-mode latency, median (min–max) over the rounds", columns: ["clients", "sync req/s", "async req/s", "ratio", "sync p50 (ms)", "sync p99 (ms)"], rows },
        { caption: "Both modes: median (min–max) over the rounds; event-loop delay from each server's /metrics; peak RSS over all rounds", columns: ["clients", "mode", ...SERVER_COLUMNS], rows: serverRows },
        { caption: "Each round", columns: ["clients", "round", "sync req/s", "async req/s", "ratio"], rows: roundRows },
      ],
      charts: [
        {
          file: "put-sync.svg",
          title: "PUT 1 KiB req/s in sync and async mode by concurrent clients",
          spec: spreadBars("PUT 1 KiB req/s by clients (median; whiskers: min–max)", "req/s", bars, { separateScales: true }),
        },
      ],
      goals: goal ? [goal] : [],
      notes,
    };
  },
};
