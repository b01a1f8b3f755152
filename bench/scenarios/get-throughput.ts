// GET /<id> on litepaste vs a bare Fastify route answering the same bytes from memory.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchChart, BenchGoal, BenchTable, Scenario } from "../scenario.js";
import { spreadBars, type SpreadBar } from "../lib/charts.js";
import { comparePair, formatRatio, SERVER_COLUMNS, serverCells, summarizePair, type Contender } from "../lib/compare.js";
import { missedGoalNote } from "../lib/cpu-profile.js";
import { runLoad } from "../lib/load.js";
import { watchOf } from "../lib/server-watch.js";
import { checkPaste, logText, putPaste } from "../lib/pastes.js";
import { serveCli, startServerProcess } from "../../testkit/litepaste-process.js";
import { formatNumber, formatSpread } from "../lib/stats.js";

const BASELINE = fileURLToPath(new URL("../baseline-server.js", import.meta.url));
const CONNECTIONS = 10;
const DURATION_S = 4;
const WARMUP_S = 2;
const GOAL = 0.8;
const SIZES = [
  { label: "1 KiB", bytes: 1024 },
  { label: "1 MiB", bytes: 1024 * 1024 },
];

export const getThroughput: Scenario = {
  id: "get-throughput",
  title: "GET throughput: litepaste vs bare Fastify",
  async run(ctx) {
    const dbPath = path.join(ctx.workDir, "get.db");
    const litepasteLog = path.join(ctx.workDir, "litepaste.log");
    const litepaste = await serveCli({ DB_PATH: dbPath }, { logFile: litepasteLog, ready: "healthy" });
    const startBaseline = (bodyFile: string, nodeArgs: string[] = []) =>
      startServerProcess({ script: BASELINE, env: { BODY_FILE: bodyFile }, logFile: path.join(ctx.workDir, "baseline.log"), nodeArgs, ready: "healthy" });
    const tables: BenchTable[] = [];
    const goals: BenchGoal[] = [];
    const bars: SpreadBar[] = [];
    const notes: string[] = [];
    const missed: Array<{ label: string; id: string; bodyFile: string }> = [];
    const summaryRows: Array<Array<string | number>> = [];
    const roundRows: Array<Array<string | number>> = [];
    const serverRows: Array<Array<string | number>> = [];
    try {
      for (const [index, size] of SIZES.entries()) {
        const body = logText(size.bytes, index + 1);
        const id = await putPaste(litepaste.url, body);
        await checkPaste(litepaste.url, id, body);
        const bodyFile = path.join(ctx.workDir, `body-${index}`);
        fs.writeFileSync(bodyFile, body);
        const baseline = await startBaseline(bodyFile);
        try {
          await checkPaste(baseline.url, id, body);
          const load = (url: string) => ({ url, connections: CONNECTIONS, durationS: DURATION_S, requests: [{ method: "GET" as const, path: `/${id}` }] });
          const lp: Contender = { name: "litepaste", load: load(litepaste.url), server: watchOf(litepaste) };
          const bare: Contender = { name: "bare Fastify", load: load(baseline.url), server: watchOf(baseline, false) };
          ctx.log(`${size.label} paste`);
          const rounds = await comparePair(ctx, lp, bare, WARMUP_S);
          const s = summarizePair(rounds);
          rounds.forEach((r, i) => roundRows.push([size.label, String(i + 1), formatNumber(r.a.requestsPerSec), formatNumber(r.b.requestsPerSec), formatNumber(r.ratio, 3)]));
          summaryRows.push([size.label, formatSpread(s.a), formatSpread(s.b), formatSpread(s.ratio, 2)]);
          serverRows.push([size.label, "litepaste", ...serverCells(rounds.map((r) => r.a))], [size.label, "bare Fastify", ...serverCells(rounds.map((r) => r.b))]);
          bars.push({ group: size.label, series: "litepaste", ...s.a }, { group: size.label, series: "bare Fastify", ...s.b });
          const met = s.ratio.median >= GOAL;
          goals.push({ name: `GET ${size.label} vs bare Fastify`, goal: `≥ ${GOAL}×`, measured: formatRatio(s.ratio, rounds.length), met });
          if (!met) missed.push({ label: size.label, id, bodyFile });
        } finally {
          await baseline.stop();
        }
      }
    } finally {
      await litepaste.stop();
    }
    tables.push(
      { caption: "req/s, median (min–max) over the rounds", columns: ["paste", "litepaste req/s", "bare Fastify req/s", "ratio"], rows: summaryRows },
      {
        caption: "Latency, event-loop delay p99 (litepaste's /metrics; the baseline has none) and peak RSS: median (min–max) over the rounds; RSS the peak over all",
        columns: ["paste", "server", ...SERVER_COLUMNS],
        rows: serverRows,
      },
      { caption: "Each round", columns: ["paste", "round", "litepaste req/s", "bare Fastify req/s", "ratio"], rows: roundRows },
    );
    for (const { label, id, bodyFile } of missed) {
      notes.push(
        await missedGoalNote({
          ctx,
          goal: `GET ${label}`,
          slow: { name: "litepaste", start: (nodeArgs) => serveCli({ DB_PATH: dbPath }, { logFile: litepasteLog, nodeArgs, ready: "healthy" }) },
          fast: { name: "bare Fastify", start: (nodeArgs) => startBaseline(bodyFile, nodeArgs) },
          load: (url) => runLoad({ url, connections: CONNECTIONS, durationS: DURATION_S, requests: [{ method: "GET", path: `/${id}` }] }),
        }),
      );
    }
    const chart: BenchChart = {
      file: "get-throughput.svg",
      title: "GET req/s, litepaste vs bare Fastify (median, whiskers min–max)",
      spec: spreadBars("GET req/s (median; whiskers: min–max)", "req/s", bars, { separateScales: true }),
    };
    return {
      settings: {
        connections: String(CONNECTIONS),
        "duration per measurement": `${DURATION_S} s, after a ${WARMUP_S} s warm-up per server`,
        "load generator": "autocannon in a separate process; both servers measured in alternating order each round",
        "litepaste": "production settings: LOG_LEVEL unset (info, one line per request) with stdout written to a file; the paste cache at its default (32 MiB); no replication (GET does not touch it)",
        baseline: "bench/baseline-server.ts: the same Fastify, no logger, no hooks, one route answering the bytes from memory with `text/plain; charset=UTF-8`",
        pastes: SIZES.map((s) => `${s.label} (${s.bytes} bytes of log text)`).join(", "),
      },
      tables,
      charts: [chart],
      goals,
      notes: [
        "Timed: 2xx answers per second over each autocannon run; every run must have no errors and no non-2xx answers. The ratio is litepaste / bare Fastify within the same round.",
        "litepaste serves the paste from its cache (after the first read, which goes to SQLite), writes a log line per request, counts it in its metrics and adds its headers (ETag, Cache-Control, CORS, nosniff); the baseline does none of that.",
        "Event-loop delay: litepaste_event_loop_delay_seconds p99 scraped right after each run (the scrape just before the run starts its window). Peak RSS: VmHWM from /proc.",
        ...notes,
      ],
    };
  },
};
