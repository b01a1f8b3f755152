// PUT throughput with asynchronous replication to the store vs without replication.

import path from "node:path";
import type { Scenario } from "../scenario.js";
import { spreadBars } from "../lib/charts.js";
import { comparePair, formatRatio, summarizePair } from "../lib/compare.js";
import { missedGoalNote } from "../lib/cpu-profile.js";
import { runLoad } from "../lib/load.js";
import { PUT_1KIB } from "../lib/pastes.js";
import { serveCli } from "../../testkit/litepaste-process.js";
import { assertReplicationHealthy, replicaEnv } from "../lib/replicated-server.js";
import { formatNumber, formatSpread, spread } from "../lib/stats.js";

const CONNECTIONS = 10;
const DURATION_S = 4;
const WARMUP_S = 2;
const GOAL = 0.9;

export const putReplication: Scenario = {
  id: "put-replication",
  title: "PUT throughput: async replication vs none",
  async run(ctx) {
    const replicatedEnv = () => ({ DB_PATH: path.join(ctx.workDir, "async.db"), ...replicaEnv(ctx.store, "put-async") });
    const replicated = await serveCli(replicatedEnv(), { logFile: path.join(ctx.workDir, "async.log"), ready: "healthy" });
    const plainEnv = () => ({ DB_PATH: path.join(ctx.workDir, "off.db") });
    const plain = await serveCli(plainEnv(), { logFile: path.join(ctx.workDir, "off.log"), ready: "healthy" });
    const load = (url: string) => ({ url, connections: CONNECTIONS, durationS: DURATION_S, requests: [PUT_1KIB] });
    let rounds;
    let replication;
    try {
      rounds = await comparePair(ctx, { name: "async", load: load(replicated.url) }, { name: "off", load: load(plain.url) }, WARMUP_S);
      replication = await assertReplicationHealthy(replicated.url);
    } finally {
      await Promise.all([replicated.stop(), plain.stop()]);
    }
    const s = summarizePair(rounds);
    const met = s.ratio.median >= GOAL;
    const notes = [
      "Timed: 2xx answers per second over each autocannon run (every answer must be 2xx). The ratio is replication on / off within the same round.",
      `After the rounds the replicating server's /healthz said: healthy ${String(replication.healthy)}, lag ${String(replication.lagSeconds)} s, last error ${String(replication.lastError)}.`,
      "The store (s3rver) runs on the same 2-core machine, so its CPU is charged to the replicating server's throughput; a remote bucket would take that load elsewhere.",
    ];
    if (!met) {
      notes.push(
        await missedGoalNote({
          ctx,
          goal: "PUT with async replication",
          slow: { name: "replication async", start: (nodeArgs) => serveCli(replicatedEnv(), { logFile: path.join(ctx.workDir, "async.log"), nodeArgs, ready: "healthy" }) },
          fast: { name: "replication off", start: (nodeArgs) => serveCli(plainEnv(), { logFile: path.join(ctx.workDir, "off.log"), nodeArgs, ready: "healthy" }) },
          load: (url) => runLoad(load(url)),
        }),
      );
    }
    return {
      settings: {
        connections: String(CONNECTIONS),
        "duration per measurement": `${DURATION_S} s, after a ${WARMUP_S} s warm-up per server`,
        body: "1 KiB of log text, `PUT /`",
        replication: `DB_SYNC_MODE=async, DB_SYNC_INTERVAL default (1 s), to ${ctx.store.description}`,
        logging: "LOG_LEVEL unset (info, one line per request), stdout written to a file",
      },
      tables: [
        {
          caption: "req/s, median (min–max) over the rounds",
          columns: ["replication", "req/s", "latency p50 (ms)", "latency p99 (ms)"],
          rows: [
            ["async", formatSpread(s.a), formatSpread(spread(rounds.map((r) => r.a.latencyMs.p50))), formatSpread(spread(rounds.map((r) => r.a.latencyMs.p99)))],
            ["off", formatSpread(s.b), formatSpread(spread(rounds.map((r) => r.b.latencyMs.p50))), formatSpread(spread(rounds.map((r) => r.b.latencyMs.p99)))],
          ],
        },
        {
          caption: "Each round",
          columns: ["round", "async req/s", "off req/s", "ratio"],
          rows: rounds.map((r, i) => [String(i + 1), formatNumber(r.a.requestsPerSec), formatNumber(r.b.requestsPerSec), formatNumber(r.ratio, 3)]),
        },
      ],
      charts: [
        {
          file: "put-replication.svg",
          title: "PUT 1 KiB req/s with async replication and without",
          spec: spreadBars("PUT 1 KiB req/s (median; whiskers: min–max)", "req/s", [
            { group: "PUT 1 KiB", series: "replication async", ...s.a },
            { group: "PUT 1 KiB", series: "replication off", ...s.b },
          ]),
        },
      ],
      goals: [{ name: "PUT 1 KiB, async replication vs off", goal: `≥ ${GOAL}×`, measured: formatRatio(s.ratio, rounds.length), met }],
      notes,
    };
  },
};
