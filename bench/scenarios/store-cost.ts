// Object-store cost: the requests replication sends, by operation, counted by the proxy in
// front of the store, for (a) 1,000 pastes at 1/s, (b) 10,000 pastes at full speed and
// (c) an idle hour, at sync intervals of 1 s, 10 s and 60 s; then $/month at AWS prices.
//
// (a) and (c) cannot run in real time inside the bench's 10 minutes. The replicator's
// timer does the same work on every tick whatever its period, so (a) runs time-scaled:
// one server with a 250 ms tick takes, for each interval I, the pastes that 1 paste/s
// puts into one interval (I × 1 paste) every tick, for 12 ticks; the requests per tick are
// then multiplied by the 1000 s / I ticks that 1,000 pastes at 1/s last. (c) is a window
// of 12 idle ticks after those, scaled to the ticks of an hour. (b) runs in real time at
// each interval.

import type { BenchChart, BenchContext, BenchTable, Scenario, ScenarioResult } from "../scenario.js";
import { runPutLoad } from "../lib/proc-load.js";
import { countByOperation, isSnapshotUpload, isWalSegmentPut, waitForStoreRequest, type StoreRequest } from "../lib/store-proxy.js";
import { startProxiedServer, type ProxiedServer } from "../lib/store-session.js";
import { epochNow, formatSpread, spread } from "../lib/stats.js";

const INTERVALS = [1, 10, 60] as const;
const TICK_MS = 250;
const SCALED_TICKS = 12;
const IDLE_TICKS = 12;
const BURST_PASTES = 10_000;
const BURST_CONNECTIONS = 8;
const SLOW_PASTES = 1000;
const BODY_BYTES = 1024;
const SECONDS_PER_MONTH = 30 * 24 * 3600;
const HOURS_PER_MONTH = 30 * 24;
/** AWS S3 Standard, us-east-1, $ per 1,000 requests (list prices as of 2026-11). */
const PRICE_PUT_TIER = 0.005;
const PRICE_GET_TIER = 0.0004;
/** Operations billed at the PUT/COPY/POST/LIST rate; everything else (GET, HEAD…) at the GET rate. */
const PUT_TIER = new Set([
  "PutObject", "CopyObject", "PostObject", "ListObjectsV2", "ListObjects", "CreateMultipartUpload", "UploadPart",
  "CompleteMultipartUpload", "DeleteObjects",
]);
const FREE = new Set(["DeleteObject", "AbortMultipartUpload"]);

type Counts = Record<string, number>;

interface ScaledWindow {
  readonly interval: number;
  readonly requests: readonly StoreRequest[];
}

interface ScaledRound {
  readonly windows: readonly ScaledWindow[];
  readonly idle: readonly StoreRequest[];
  /** The start-up retention pass: what the hourly retention check sends. */
  readonly retentionPass: readonly StoreRequest[];
}

interface Burst {
  readonly interval: number;
  readonly requests: readonly StoreRequest[];
  readonly seconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function since(session: ProxiedServer, from: number): StoreRequest[] {
  return session.proxy.requests.filter((r) => r.start >= from);
}

/** Segment uploads apart from everything else: the distinction the goals are about. */
function label(r: StoreRequest): string {
  if (isWalSegmentPut(r)) return "PutObject (WAL segment)";
  if (/\.snapshot\.lz4$/.test(r.key)) return `${r.operation} (snapshot)`;
  return r.operation;
}

const walIndex = (key: string) => /\/wal\/([0-9a-f]+)_/.exec(key)?.[1];

/**
 * The segment uploads of a window: how many ticks shipped (uploads grouped by time: a gap
 * of half a tick starts a new group) and the uploads that came right after another one
 * for a known reason: at a WAL index change (a checkpoint ended the round: its tail, then
 * the new round) or right before a snapshot (which first ships the WAL up to its image).
 */
function segmentTicks(requests: readonly StoreRequest[]) {
  const segments = requests.filter(isWalSegmentPut).sort((a, b) => a.start - b.start);
  const snapshots = requests.filter((r) => /\.snapshot\.lz4$/.test(r.key));
  let ticks = 0;
  const extra = { checkpoint: 0, snapshot: 0 };
  segments.forEach((segment, i) => {
    const previous = segments[i - 1];
    if (!previous || segment.start - previous.end >= TICK_MS / 2) {
      ticks++;
      return;
    }
    if (walIndex(segment.key) !== walIndex(previous.key)) extra.checkpoint++;
    else if (snapshots.some((s) => s.start >= segment.end && s.start - segment.end < TICK_MS / 2)) extra.snapshot++;
  });
  return { segments: segments.length, ticks, extra, plain: segments.length - extra.checkpoint - extra.snapshot };
}

function countLabels(requests: readonly StoreRequest[]): Counts {
  return countByOperation(requests.map((r) => ({ ...r, operation: label(r) })));
}

async function scaledRound(ctx: BenchContext): Promise<ScaledRound> {
  const session = await startProxiedServer(ctx, "cost-scaled", { DB_SYNC_MODE: "async", DB_SYNC_INTERVAL: `${TICK_MS}ms` });
  try {
    // The first tick after the generation's snapshot runs the hourly retention check; it
    // belongs to the hour, not to the syncs.
    const snapshotAt = session.proxy.requests.find(isSnapshotUpload)!.end;
    const isRetention = (r: StoreRequest) => r.operation === "ListObjectsV2" || r.operation === "DeleteObjects";
    await waitForStoreRequest(session.proxy, "the start-up retention check", (r) => isRetention(r) && r.start > snapshotAt, 10_000);
    await sleep(2 * TICK_MS);
    const retentionPass = since(session, snapshotAt).filter(isRetention);
    const windows: ScaledWindow[] = [];
    for (const interval of INTERVALS) {
      const from = epochNow();
      await runPutLoad(
        {
          url: session.server.url, connections: 1, rate: interval * (1000 / TICK_MS), arrivals: "even",
          durationSeconds: (SCALED_TICKS * TICK_MS) / 1000, bodyBytes: BODY_BYTES,
        },
        ctx.workDir,
      );
      await sleep(TICK_MS + 300); // the last pastes' tick and upload
      windows.push({ interval, requests: since(session, from) });
    }
    const idleFrom = epochNow();
    await sleep(IDLE_TICKS * TICK_MS);
    return { windows, idle: since(session, idleFrom), retentionPass };
  } finally {
    await session.stop();
  }
}

async function burst(ctx: BenchContext, interval: number): Promise<Burst> {
  const session = await startProxiedServer(ctx, `cost-burst-${interval}s`, { DB_SYNC_MODE: "async", DB_SYNC_INTERVAL: `${interval}s` });
  const from = epochNow();
  try {
    const load = await runPutLoad({ url: session.server.url, connections: BURST_CONNECTIONS, amount: BURST_PASTES, bodyBytes: BODY_BYTES }, ctx.workDir);
    await session.stop(); // ships what the last tick has not: counted too
    return { interval, requests: since(session, from), seconds: load.durationSeconds };
  } catch (err) {
    await session.stop().catch(() => {});
    throw err;
  }
}

function scaleCounts(counts: Counts, factor: number): Counts {
  return Object.fromEntries(Object.entries(counts).map(([name, n]) => [name, n * factor]));
}

function median(values: readonly number[]): number {
  return spread(values).median;
}

function medianCounts(all: readonly Counts[]): Counts {
  const names = [...new Set(all.flatMap((c) => Object.keys(c)))].sort();
  return Object.fromEntries(names.map((n) => [n, median(all.map((c) => c[n] ?? 0))]));
}

function dollars(counts: Counts): number {
  let total = 0;
  for (const [name, n] of Object.entries(counts)) {
    const op = name.split(" ")[0]!;
    if (FREE.has(op)) continue;
    total += (n / 1000) * (PUT_TIER.has(op) ? PRICE_PUT_TIER : PRICE_GET_TIER);
  }
  return total;
}

function formatCounts(counts: Counts): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  return entries.length === 0 ? "none" : entries.map(([name, n]) => `${name}: ${Number.isInteger(n) ? n : n.toFixed(1)}`).join(", ");
}

function requestsChart(rows: ReadonlyArray<{ workload: string; counts: Counts }>): BenchChart {
  const values = rows.flatMap(({ workload, counts }) => Object.entries(counts).map(([operation, n]) => ({ workload, operation, requests: n })));
  return {
    file: "store-requests.svg",
    title: "Object-store requests by operation for each workload and sync interval",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: "Store requests by operation (median of rounds; (a) and idle hour extrapolated)",
      width: 420,
      height: { step: 8 },
      data: { values },
      mark: "bar",
      encoding: {
        y: { field: "workload", type: "nominal", title: null, sort: null, axis: { labelLimit: 0 } },
        yOffset: { field: "operation", type: "nominal" },
        x: {
          field: "requests", type: "quantitative", title: "requests (symmetric log scale)", scale: { type: "symlog" }, stack: null,
          axis: { values: [0, 1, 10, 100, 1000, 10000] },
        },
        color: { field: "operation", type: "nominal", title: "operation", legend: { labelLimit: 0 } },
      },
    },
  };
}

export const storeCostScenario: Scenario = {
  id: "store-cost",
  title: "Object-store cost",
  async run(ctx): Promise<ScenarioResult> {
    const rounds: ScaledRound[] = [];
    for (let round = 1; round <= ctx.rounds; round++) {
      ctx.log(`store cost: round ${round}/${ctx.rounds}, time-scaled 1 paste/s and an idle window`);
      rounds.push(await scaledRound(ctx));
    }
    const bursts: Burst[] = [];
    for (const interval of INTERVALS) {
      ctx.log(`store cost: ${BURST_PASTES} pastes at full speed, DB_SYNC_INTERVAL=${interval}s`);
      bursts.push(await burst(ctx, interval));
    }

    const chartRows: Array<{ workload: string; counts: Counts }> = [];
    const requestRows: Array<Array<string | number>> = [];
    const costRows: Array<Array<string | number>> = [];
    const tickRows: Array<Array<string | number>> = [];
    const retentionCounts = medianCounts(rounds.map((r) => countLabels(r.retentionPass)));
    const idleCount = median(rounds.map((r) => r.idle.length));
    const total = (c: Counts) => Object.values(c).reduce((a, b) => a + b, 0);
    // Ticks that pass while a window's pastes arrive, plus the one that ships the last of them.
    const ticksWhileWriting = SCALED_TICKS + 1;
    let worstPlainPerTick = 0;
    let listsWhileSyncing = 0;
    for (const interval of INTERVALS) {
      // (a): each window's counts per tick that shipped × the ticks of 1,000 s at 1 paste/s.
      const windows = rounds.map((r) => r.windows.find((w) => w.interval === interval)!);
      const shape = windows.map((w) => segmentTicks(w.requests));
      const slow = medianCounts(windows.map((w, i) => scaleCounts(countLabels(w.requests), SLOW_PASTES / interval / Math.max(1, shape[i]!.ticks))));
      worstPlainPerTick = Math.max(worstPlainPerTick, ...shape.map((t) => t.plain / ticksWhileWriting));
      listsWhileSyncing += windows.reduce((n, w) => n + w.requests.filter((r) => r.operation.startsWith("ListObjects")).length, 0);
      const segmentsPerTick = median(shape.map((t) => t.segments / Math.max(1, t.ticks)));
      tickRows.push([
        `${interval}s`, interval, ticksWhileWriting, formatSpread(spread(shape.map((t) => t.ticks)), 0),
        formatSpread(spread(shape.map((t) => t.segments)), 0),
        formatSpread(spread(shape.map((t) => t.extra.checkpoint)), 0),
        formatSpread(spread(shape.map((t) => t.extra.snapshot)), 0),
      ]);
      // (b): measured once.
      const fastRun = bursts.find((b) => b.interval === interval)!;
      const fast = countLabels(fastRun.requests);
      // (c): the idle window per tick × the ticks of an hour. No retention check: it runs only
      // in an hour in which something was uploaded.
      const idleHour: Counts = {};
      if (idleCount > 0) idleHour["timer-driven requests"] = (idleCount / IDLE_TICKS) * (3600 / interval);

      requestRows.push(
        [`${interval}s`, `(a) ${SLOW_PASTES} pastes at 1/s`, Math.round(total(slow)), formatCounts(slow)],
        [`${interval}s`, `(b) ${BURST_PASTES} pastes at full speed (${fastRun.seconds.toFixed(1)} s)`, total(fast), formatCounts(fast)],
        [`${interval}s`, "(c) one idle hour", total(idleHour), formatCounts(idleHour)],
      );
      chartRows.push(
        { workload: `${interval}s: (a) 1,000 at 1/s`, counts: slow },
        { workload: `${interval}s: (b) 10,000 at full speed`, counts: fast },
        { workload: `${interval}s: (c) idle hour`, counts: idleHour },
      );

      // A month of 1 paste/s: segment uploads per tick × the ticks of 30 days, the hourly
      // retention check as measured, and one snapshot a day (DB_SNAPSHOT_INTERVAL=24h).
      const month: Counts = { "PutObject (WAL segment)": segmentsPerTick * (SECONDS_PER_MONTH / interval), "PutObject (snapshot)": 30 };
      for (const [n, c] of Object.entries(retentionCounts)) month[n] = (month[n] ?? 0) + c * HOURS_PER_MONTH;
      costRows.push([
        `${interval}s`, Math.round(month["PutObject (WAL segment)"]!), `$${dollars(month).toFixed(2)}`,
        `$${dollars(scaleCounts(idleHour, HOURS_PER_MONTH)).toFixed(4)}`, `$${((dollars(fast) * 1_000_000) / BURST_PASTES).toFixed(4)}`,
      ]);
    }

    const tables: BenchTable[] = [
      {
        caption: "Requests the store received, by operation ((a) and (c) extrapolated as the notes say, median of rounds; (b) measured once)",
        columns: ["DB_SYNC_INTERVAL", "workload", "requests", "by operation"],
        rows: requestRows,
      },
      {
        caption: `Segment uploads per tick in the time-scaled (a) windows: median (min–max) over ${ctx.rounds} rounds`,
        columns: ["DB_SYNC_INTERVAL", "pastes per tick", "ticks while writing", "ticks that shipped", "segment PUTs", "one more at a checkpoint", "one more before a snapshot"],
        rows: tickRows,
      },
      {
        caption: "$ at AWS S3 Standard list prices (us-east-1): requests only",
        columns: ["DB_SYNC_INTERVAL", "segment PUTs per month at 1 paste/s", "$/month at 1 paste/s", "$/month idle", "$ per million pastes at full speed"],
        rows: costRows,
      },
    ];
    return {
      settings: {
        "paste size": `${BODY_BYTES} bytes`,
        "(a)": `time-scaled: ${TICK_MS} ms tick, I pastes per tick (evenly spaced) for ${SCALED_TICKS} ticks, per interval I; ${ctx.rounds} rounds`,
        "(b)": `${BURST_PASTES} PUTs, autocannon with ${BURST_CONNECTIONS} connections, at the real interval, then a clean stop; once per interval`,
        "(c)": `${IDLE_TICKS} idle ticks of ${TICK_MS} ms after (a); ${ctx.rounds} rounds`,
        prices: `$${PRICE_PUT_TIER} per 1,000 PUT/COPY/POST/LIST, $${PRICE_GET_TIER} per 1,000 GET and others, DELETE free`,
        store: ctx.store.description,
      },
      tables,
      charts: [requestsChart(chartRows)],
      goals: [
        {
          name: "idle: requests in an idle hour",
          goal: "0",
          measured: `${idleCount} in the idle window (median of rounds)`,
          met: idleCount === 0,
        },
        {
          name: "no LIST while syncing",
          goal: "0 LIST",
          measured: `${listsWhileSyncing} LIST in all (a) windows of all rounds`,
          met: listsWhileSyncing === 0,
        },
        {
          name: "segment PUTs per sync interval with writes, besides the one more at a checkpoint or before a snapshot",
          goal: "≤ 1",
          measured: `${worstPlainPerTick.toFixed(2)} (worst (a) window of all rounds and intervals)`,
          met: worstPlainPerTick <= 1,
        },
      ],
      notes: [
        "Counted: every request the store received, classified by method and query string at an HTTP proxy in front of it " +
          "(PutObject, ListObjectsV2, DeleteObjects, multipart parts…); WAL segments and snapshots are told apart by key.",
        `(a) time-scaled: one server with DB_SYNC_INTERVAL=${TICK_MS}ms; for each interval I ∈ {1 s, 10 s, 60 s} it gets I pastes per tick ` +
          `(4·I pastes/s, evenly spaced) for ${SCALED_TICKS} ticks, which is what 1 paste/s puts into one interval I. The replicator does the ` +
          `same per tick whatever the period, so each window's requests per tick that shipped × (1,000 s / I) = requests for ${SLOW_PASTES} ` +
          "pastes at 1/s. Snapshots triggered by WAL volume depend on the number of pastes, not on the interval.",
        `A window's pastes arrive during ${SCALED_TICKS} ticks, and one more tick ships the last of them: at most ${SCALED_TICKS + 1} ` +
          "segment uploads meet the goal. Uploads are grouped into the ticks that shipped by time (a gap of half a tick starts a new " +
          "one). A tick sends one segment more at a WAL index change (a checkpoint, about every 1,000 pages of WAL, ended the round: " +
          "its tail and the new round go up as two objects) and right before a snapshot (which first ships the WAL up to its image, so " +
          "that a restore never replays an older part of the round over it); those are counted apart.",
        `(b) real time: ${BURST_PASTES} pastes as fast as ${BURST_CONNECTIONS} connections get answers, at the real interval, then SIGTERM ` +
          "(which ships what is pending): counted from the first paste to the exit, the generation's first snapshot excluded. A segment " +
          "holds at most 16 MiB of WAL, so a tick that finds more ships several. Run once per interval: these are counts, and three " +
          "rounds of them would take most of a minute more.",
        `(c) idle: ${IDLE_TICKS} ticks with no writes after (a), scaled to an hour by its ticks. The retention check, which lists the ` +
          `replica (${formatCounts(retentionCounts)} at start-up here; a LIST page per 1,000 objects kept), runs at most once an hour and ` +
          "only after something was uploaded since the last one, so an idle hour has none (replication/retention.test.ts shows no pass " +
          "while idle). An earlier run of this bench found it listing every hour whatever happened; that is what changed.",
        "$/month at 1 paste/s: segment PUTs per tick × ticks in 30 days, one retention check per hour as measured at start-up (with a " +
          "day of segments kept its LIST takes a page per 1,000 objects and it deletes what aged out: more than measured here), and one " +
          "snapshot a day (a large database's snapshot is a multipart upload: one request more per 5 MB part). Storage is not included: " +
          "it depends on the database size and DB_RETENTION, not on the interval.",
        `Prices: AWS S3 Standard, us-east-1 list prices as given for this bench (2026-11): $${PRICE_PUT_TIER} per 1,000 PUT, COPY, POST ` +
          `and LIST requests; $${PRICE_GET_TIER} per 1,000 GET and other requests; DELETE free (DeleteObjects is a POST and is billed as one here).`,
      ],
    };
  },
};
