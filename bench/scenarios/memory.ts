// Resident memory of the server at rest and under a mixed GET/PUT load with replication
// on; with --soak, its growth over a 10-minute run.

import path from "node:path";
import type { BenchChart, BenchContext, BenchGoal, Scenario } from "../scenario.js";
import { lines, type LinePoint } from "../lib/charts.js";
import { runLoad, type LoadRequest } from "../lib/load.js";
import { checkPaste, logText, PUT_1KIB, putPaste } from "../lib/pastes.js";
import { fileBackedBytes, sampleRss, SETTLE_TOLERANCE_BYTES, SETTLE_WINDOW_MS, settledRss, type RssSample } from "../lib/rss.js";
import { type ServedProcess, serveCli } from "../../testkit/litepaste-process.js";
import { assertReplicationHealthy, replicaEnv } from "../lib/replicated-server.js";
import { formatMB, formatNumber, spread } from "../lib/stats.js";
import { readHeapTrace } from "../lib/gc-trace.js";

const CONNECTIONS = 10;
const LOAD_S = 60;
const SOAK_S = 600;
const SOAK_WARMUP_S = 60;
/** The soak's start and end levels are medians over this long, not single readings. */
const SOAK_WINDOW_S = 30;
const SAMPLE_MS = 500;
const GOAL_BYTES = 150e6;
const DIAGNOSIS_S = 15;
const GOAL_LINE = { value: GOAL_BYTES / 1e6, label: "goal: 150 MB" };
const GROWTH_GOAL_PERCENT = 5;

function startReplicating(ctx: BenchContext, name: string, nodeArgs: string[] = []): Promise<ServedProcess> {
  const env = { DB_PATH: path.join(ctx.workDir, `${name}.db`), ...replicaEnv(ctx.store, `memory-${name}`) };
  return serveCli(env, { logFile: path.join(ctx.workDir, `${name}.log`), nodeArgs, ready: "healthy" });
}

/** Per connection, in order: eight GETs of a 1 KiB paste, one of a 1 MiB paste, one 1 KiB PUT. */
async function seedMix(url: string): Promise<LoadRequest[]> {
  const small = logText(1024, 11);
  const large = logText(1024 * 1024, 12);
  const smallId = await putPaste(url, small);
  const largeId = await putPaste(url, large);
  await checkPaste(url, largeId, large);
  return [...Array.from({ length: 8 }, () => ({ method: "GET" as const, path: `/${smallId}` })), { method: "GET", path: `/${largeId}` }, PUT_1KIB];
}

/**
 * Why the RSS under load is high, from two shorter runs of the same mix on fresh servers:
 * one with `--trace-gc` (how much of the RSS is V8's heap) and one without replication.
 */
async function diagnoseLoadRss(ctx: BenchContext, maxRss: number): Promise<string> {
  ctx.log(`max RSS missed the goal: ${DIAGNOSIS_S} s runs with --trace-gc and without replication`);
  const peak = async (server: ServedProcess) => {
    try {
      const run = await rssUnderLoad(server.url, server.pid, DIAGNOSIS_S, await seedMix(server.url));
      return Math.max(...run.samples.map((s) => s.bytes));
    } finally {
      await server.stop();
    }
  };
  const traced = await startReplicating(ctx, "diagnosis-gc", ["--trace-gc"]);
  const tracedMax = await peak(traced);
  const heap = readHeapTrace(traced.logFile);
  const plainMax = await peak(await serveCli({ DB_PATH: path.join(ctx.workDir, "diagnosis-plain.db") }, { logFile: path.join(ctx.workDir, "diagnosis-plain.log"), ready: "healthy" }));
  return (
    `Max RSS misses the goal (${formatMB(maxRss)}). Diagnosis, ${DIAGNOSIS_S} s runs of the same mix on fresh servers: with \`node --trace-gc\` it reached ${formatMB(tracedMax)} RSS ` +
    `while V8's heap had at most ${formatMB(heap.maxCommittedBytes)} committed and ${formatMB(heap.maxLiveBytes)} live after a collection (${heap.collections} collections), ` +
    `so ${formatMB(Math.max(0, tracedMax - heap.maxCommittedBytes))} of that peak lies outside the JS heap (Buffers, SQLite, the C allocator, and the mapped code counted in "file-backed" above); ` +
    `without replication the same mix peaked at ${formatMB(plainMax)}.`
  );
}

async function rssUnderLoad(url: string, pid: number, durationS: number, requests: LoadRequest[]) {
  const sampler = sampleRss(pid, SAMPLE_MS);
  let samples: RssSample[];
  let result;
  try {
    result = await runLoad({ url, connections: CONNECTIONS, durationS, requests });
  } finally {
    samples = sampler.stop();
  }
  return { samples, result };
}

const fileBackedRow = (s: { min: number; median: number; max: number }) => [
  "at rest, of which file-backed (mapped node binary and native modules, shared)",
  formatMB(s.min),
  formatMB(s.median),
  formatMB(s.max),
];

const toPoints = (samples: readonly RssSample[], series: string): LinePoint[] => samples.map((s) => ({ x: s.ms / 1000, y: s.bytes / 1e6, series }));

function medianIn(samples: readonly RssSample[], fromS: number, toS: number): number {
  return spread(samples.filter((s) => s.ms >= fromS * 1000 && s.ms <= toS * 1000).map((s) => s.bytes)).median;
}

export const memory: Scenario = {
  id: "memory",
  title: "Memory: RSS at rest, under load and over a soak",
  async run(ctx) {
    const rest: number[] = [];
    const fileBacked: number[] = [];
    let server: ServedProcess | undefined;
    for (let round = 0; round < ctx.rounds; round++) {
      await server?.stop();
      server = await startReplicating(ctx, `rest-${round}`);
      const settled = await settledRss(server.pid);
      rest.push(settled.bytes);
      const file = fileBackedBytes(server.pid);
      if (file !== null) fileBacked.push(file);
      ctx.log(`round ${round + 1}: at rest ${formatMB(settled.bytes)} after ${formatNumber(settled.afterMs / 1000, 1)} s${settled.settled ? "" : " (still moving)"}`);
    }
    // The last round's server takes the load: started fresh, measured at rest, now seeded.
    let load;
    try {
      const requests = await seedMix(server!.url);
      ctx.log(`${LOAD_S} s of mixed load`);
      load = await rssUnderLoad(server!.url, server!.pid, LOAD_S, requests);
      await assertReplicationHealthy(server!.url);
    } finally {
      await server!.stop();
    }
    const restSpread = spread(rest);
    const loadMax = Math.max(...load.samples.map((s) => s.bytes));
    const goals: BenchGoal[] = [
      { name: "RSS at rest", goal: "≤ 150 MB", measured: `${formatMB(restSpread.median)} (median of ${rest.length} starts)`, met: restSpread.median <= GOAL_BYTES },
      { name: `max RSS under ${LOAD_S} s of mixed load`, goal: "≤ 150 MB", measured: formatMB(loadMax), met: loadMax <= GOAL_BYTES },
    ];
    const rows: Array<Array<string | number>> = [
      ["at rest (settled after start)", formatMB(restSpread.min), formatMB(restSpread.median), formatMB(restSpread.max)],
      ...(fileBacked.length > 0 ? [fileBackedRow(spread(fileBacked))] : []),
      [`during ${LOAD_S} s of mixed load (samples every ${SAMPLE_MS} ms)`, formatMB(Math.min(...load.samples.map((s) => s.bytes))), formatMB(spread(load.samples.map((s) => s.bytes)).median), formatMB(loadMax)],
    ];
    const charts: BenchChart[] = [
      { file: "memory-load.svg", title: `RSS during ${LOAD_S} s of mixed load`, spec: lines(`litepaste RSS under ${LOAD_S} s of mixed load`, "seconds", "RSS (MB)", toPoints(load.samples, "RSS"), GOAL_LINE) },
    ];
    const notes = [
      `RSS is read from /proc/<pid>/status (VmRSS) of the server process. "At rest" is the reading once ${SETTLE_WINDOW_MS / 1000} s of readings stay within ${SETTLE_TOLERANCE_BYTES / 1024} KiB of each other after start (GC has settled), on a fresh server with an empty database replicating to the store.`,
      `The mixed load: ${CONNECTIONS} connections at full speed, each cycling through eight GETs of a 1 KiB paste, one GET of a 1 MiB paste and one 1 KiB PUT; ${formatNumber(load.result.requestsPerSec)} req/s on average. The load runs once (a 60 s curve rather than rounds).`,
    ];
    if (loadMax > GOAL_BYTES) notes.push(await diagnoseLoadRss(ctx, loadMax));
    if (ctx.soak) {
      server = await startReplicating(ctx, "soak");
      let soak;
      try {
        const requests = await seedMix(server.url);
        ctx.log(`${SOAK_S / 60} minute soak`);
        soak = await rssUnderLoad(server.url, server.pid, SOAK_S, requests);
        await assertReplicationHealthy(server.url);
      } finally {
        await server.stop();
      }
      const start = medianIn(soak.samples, SOAK_WARMUP_S, SOAK_WARMUP_S + SOAK_WINDOW_S);
      const end = medianIn(soak.samples, SOAK_S - SOAK_WINDOW_S, SOAK_S + 1);
      const growth = (100 * (end - start)) / start;
      goals.push({ name: `RSS growth over a ${SOAK_S / 60}-minute soak`, goal: `≤ ${GROWTH_GOAL_PERCENT} %`, measured: `${formatNumber(growth, 1)} % (${formatMB(start)} → ${formatMB(end)})`, met: growth <= GROWTH_GOAL_PERCENT });
      rows.push([`during the ${SOAK_S / 60}-minute soak`, formatMB(Math.min(...soak.samples.map((s) => s.bytes))), formatMB(spread(soak.samples.map((s) => s.bytes)).median), formatMB(Math.max(...soak.samples.map((s) => s.bytes)))]);
      charts.push({ file: "memory-soak.svg", title: `RSS over the ${SOAK_S / 60}-minute soak`, spec: lines(`litepaste RSS over a ${SOAK_S / 60}-minute soak`, "seconds", "RSS (MB)", toPoints(soak.samples, "RSS"), GOAL_LINE) });
      notes.push(`Soak: the same mixed load for ${SOAK_S / 60} minutes on a fresh server; growth compares the median RSS of the last ${SOAK_WINDOW_S} s with the median over ${SOAK_WARMUP_S}–${SOAK_WARMUP_S + SOAK_WINDOW_S} s (after warm-up); ${formatNumber(soak.result.requestsPerSec)} req/s on average.`);
    } else {
      notes.push("The 10-minute soak was not run: `npm run bench -- --only memory --soak` runs it.");
    }
    return {
      settings: {
        replication: `async to ${ctx.store.description}, DB_SYNC_INTERVAL default (1 s)`,
        connections: String(CONNECTIONS),
        "mixed load": `${LOAD_S} s${ctx.soak ? `; soak ${SOAK_S / 60} min` : ""}`,
        "RSS sampling": `every ${SAMPLE_MS} ms`,
        logging: "LOG_LEVEL unset (info), stdout written to a file",
      },
      tables: [{ caption: "RSS (MB = 10^6 bytes)", columns: ["when", "min", "median", "max"], rows }],
      charts,
      goals,
      notes,
    };
  },
};
