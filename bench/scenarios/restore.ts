// Restore: `litepaste restore` of a 10 MB and a 200 MB database from the store, against
// the reference restore (Litestream v0.3's algorithm with the `lz4` and `sqlite3` tools)
// and the raw speed of downloading and LZ4-decoding the same objects; peak RSS of each.

import fs from "node:fs";
import path from "node:path";
import { CLI, serveCli } from "../../testkit/litepaste-process.js";
import type { BenchChart, BenchContext, Scenario, ScenarioResult } from "../scenario.js";
import { benchScript, runNode, type NodeRun } from "../lib/proc-node.js";
import { buildPasteDatabase, type BuiltDatabase } from "../lib/restore-db.js";
import { formatSpread, spread } from "../lib/stats.js";

const SIZES_MB = [10, 200] as const;
const MB = 1_000_000;
const GOAL_RATIO = 0.8;
/** litepaste restore's wall time over the reference restore's, at most. */
const REFERENCE_GOAL_RATIO = 1.0;
const RSS_GOAL_MB = 100;
/** Peak RSS may grow by this factor from the small database to the large one and still count as flat. */
const RSS_FLAT_FACTOR = 1.25;
const WAL_PASTES = 40;
const BASELINE_SCRIPT = benchScript(import.meta.url, "../lib/restore-baseline.js");
const REFERENCE_SCRIPT = benchScript(import.meta.url, "../lib/restore-reference.js");

interface Replica {
  readonly sizeMb: number;
  readonly url: string;
  readonly db: BuiltDatabase;
  readonly objects: number;
  readonly compressedBytes: number;
}

interface Round {
  readonly restore: NodeRun;
  readonly baseline: NodeRun;
  /** The reference restore; its peak RSS is its driver's plus its largest tool process's. */
  readonly reference: NodeRun;
}

/** Each program started with nothing to do: `restore -h`, and the baseline without arguments. */
async function startUp(ctx: BenchContext, round: number): Promise<Round> {
  const restore = () => runNode(CLI, ["restore", "-h"], ctx.store.env, ctx.workDir);
  const baseline = () => runNode(BASELINE_SCRIPT, [], ctx.store.env, ctx.workDir);
  const reference = () => runNode(REFERENCE_SCRIPT, [], ctx.store.env, ctx.workDir);
  return inTurn(round, { restore, baseline, reference });
}

/** Runs the three one after another, starting with a different one each round, so that none always meets a warmer cache. */
async function inTurn(round: number, programs: Record<keyof Round, () => Promise<NodeRun>>): Promise<Round> {
  const order = (["restore", "reference", "baseline"] as const).map((_, i, all) => all[(i + round) % all.length]!);
  const runs: Partial<Record<keyof Round, NodeRun>> = {};
  for (const what of order) runs[what] = await programs[what]();
  const reference = runs.reference!;
  const tools = reference.stdout ? (JSON.parse(reference.stdout) as { toolPeakRssBytes: number }).toolPeakRssBytes : 0;
  return { restore: runs.restore!, baseline: runs.baseline!, reference: { ...reference, maxRssBytes: reference.maxRssBytes + tools } };
}

/**
 * Builds the database and lets a litepaste server replicate it: its first snapshot, then a
 * few WAL segments from pastes sent a few sync intervals apart; a clean stop ships the rest.
 */
async function prepareReplica(ctx: BenchContext, sizeMb: number): Promise<Replica> {
  const dir = path.join(ctx.workDir, `restore-${sizeMb}mb`);
  fs.mkdirSync(dir, { recursive: true });
  const dbPath = path.join(dir, "source.db");
  const db = buildPasteDatabase(dbPath, sizeMb * MB, sizeMb);
  const url = ctx.store.url(`bench/restore-${sizeMb}mb-${Date.now()}`);
  const server = await serveCli({ ...ctx.store.env, DB_PATH: dbPath, DB_REPLICA_URL: url, DB_SYNC_INTERVAL: "100ms" });
  try {
    await waitForGeneration(server.url);
    for (let i = 0; i < WAL_PASTES; i++) {
      const answer = await fetch(server.url, { method: "PUT", body: `paste ${i} after the snapshot\n`.repeat(200) });
      if (answer.status !== 200) throw new Error(`PUT answered ${answer.status}: ${await answer.text()}`);
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (err) {
    server.child.kill("SIGKILL");
    throw err;
  }
  const code = await server.stop();
  if (code !== 0) throw new Error(`litepaste exited with ${code} while replicating the ${sizeMb} MB database:\n${server.output()}`);
  // One unmeasured baseline run: how many objects a restore reads, and the store's files
  // are in the page cache for every measured round alike.
  const probe = await runNode(BASELINE_SCRIPT, [url, path.join(dir, "probe")], ctx.store.env, dir);
  fs.rmSync(dir, { recursive: true, force: true });
  const { objects, compressedBytes } = JSON.parse(probe.stdout) as { objects: number; compressedBytes: number };
  return { sizeMb, url, db, objects, compressedBytes };
}

/** Until /healthz says the replica holds a generation (its first snapshot is uploaded). */
async function waitForGeneration(serverUrl: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const health = (await (await fetch(`${serverUrl}/healthz`)).json()) as { replication?: { generation?: string | null } };
    if (health.replication?.generation) return;
    if (Date.now() > deadline) throw new Error(`no snapshot uploaded within 120 s: ${JSON.stringify(health)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function measure(ctx: BenchContext, replica: Replica, round: number): Promise<Round> {
  const dir = path.join(ctx.workDir, `restore-${replica.sizeMb}mb-round-${round}`);
  fs.mkdirSync(dir);
  const restore = () => runNode(CLI, ["restore", "-o", path.join(dir, "restored.db"), replica.url], ctx.store.env, dir);
  const baseline = () => runNode(BASELINE_SCRIPT, [replica.url, path.join(dir, "baseline")], ctx.store.env, dir);
  const reference = () => runNode(REFERENCE_SCRIPT, [replica.url, path.join(dir, "reference.db")], ctx.store.env, dir);
  const result = await inTurn(round, { restore, baseline, reference });
  if (!fs.readFileSync(path.join(dir, "restored.db")).equals(fs.readFileSync(path.join(dir, "reference.db")))) {
    throw new Error(`litepaste restore and the reference restore of the ${replica.sizeMb} MB replica differ`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

function timeChart(results: ReadonlyArray<{ replica: Replica; rounds: readonly Round[] }>): BenchChart {
  const values = results.flatMap(({ replica, rounds }) =>
    (["restore", "reference", "baseline"] as const).map((what) => ({
      sizeMb: replica.sizeMb,
      what: { restore: "litepaste restore", reference: "reference: lz4 + sqlite3 CLIs (Litestream's algorithm)", baseline: "download + LZ4 decode (AWS SDK)" }[what],
      seconds: spread(rounds.map((r) => r[what].wallMs / 1000)).median,
    })),
  );
  return {
    file: "restore-time.svg",
    title: "Restore time against database size: litepaste restore, the reference restore and the download-and-decode baseline",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: "Restore time (median of rounds)",
      width: 420,
      height: 260,
      data: { values },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "sizeMb", type: "quantitative", title: "database size (MB)" },
        y: { field: "seconds", type: "quantitative", title: "wall time (s), process start to exit" },
        color: { field: "what", type: "nominal", title: null, legend: { labelLimit: 0 } },
      },
    },
  };
}

export const restoreScenario: Scenario = {
  id: "restore",
  title: "Restore, 10 MB and 200 MB databases",
  async run(ctx): Promise<ScenarioResult> {
    const startUps: Round[] = [];
    for (let round = 1; round <= ctx.rounds; round++) startUps.push(await startUp(ctx, round));
    const results: Array<{ replica: Replica; rounds: Round[] }> = [];
    for (const sizeMb of SIZES_MB) {
      ctx.log(`restore: building and replicating a ${sizeMb} MB database`);
      const replica = await prepareReplica(ctx, sizeMb);
      const rounds: Round[] = [];
      for (let round = 1; round <= ctx.rounds; round++) {
        ctx.log(`restore: ${sizeMb} MB, round ${round}/${ctx.rounds}`);
        rounds.push(await measure(ctx, replica, round));
      }
      results.push({ replica, rounds });
    }
    const ratio = (rounds: readonly Round[]) => spread(rounds.map((r) => r.baseline.wallMs / r.restore.wallMs));

    const vsReference = (rounds: readonly Round[]) => spread(rounds.map((r) => r.restore.wallMs / r.reference.wallMs));
    const rssMb = (rounds: readonly Round[], what: keyof Round) => spread(rounds.map((r) => r[what].maxRssBytes / MB));
    const [small, large] = results as [(typeof results)[0], (typeof results)[0]];
    const seconds = (rounds: readonly Round[], what: keyof Round) => spread(rounds.map((r) => r[what].wallMs / 1000));
    const startUpSeconds = { restore: seconds(startUps, "restore").median, baseline: seconds(startUps, "baseline").median };
    /** The ratio once each program's median start-up is taken off its times. */
    const workRatio = (rounds: readonly Round[]) =>
      (seconds(rounds, "baseline").median - startUpSeconds.baseline) / (seconds(rounds, "restore").median - startUpSeconds.restore);
    const rssGrowth = rssMb(large.rounds, "restore").median / rssMb(small.rounds, "restore").median;
    return {
      settings: {
        databases: results.map(({ replica: r }) => `${(r.db.bytes / MB).toFixed(1)} MB (${r.db.pastes} pastes of 2–16 KiB)`).join(", "),
        replica: results.map(({ replica: r }) => `${r.objects} objects, ${(r.compressedBytes / MB).toFixed(1)} MB`).join("; "),
        store: ctx.store.description,
      },
      tables: [
        {
          caption: `Restore: median (min–max) over ${ctx.rounds} rounds`,
          columns: ["database", "objects", "restore (s)", "reference (s)", "restore / reference (×)", "baseline (s)", "speed vs baseline (×)",
            "restore peak RSS (MB)", "reference peak RSS (MB)", "baseline peak RSS (MB)"],
          rows: [
            ["start-up only (nothing to restore)", 0, formatSpread(seconds(startUps, "restore"), 2), formatSpread(seconds(startUps, "reference"), 2),
              formatSpread(vsReference(startUps), 2), formatSpread(seconds(startUps, "baseline"), 2), formatSpread(ratio(startUps), 2),
              formatSpread(rssMb(startUps, "restore"), 0), formatSpread(rssMb(startUps, "reference"), 0), formatSpread(rssMb(startUps, "baseline"), 0)],
            ...results.map(({ replica, rounds }) => [
              `${replica.sizeMb} MB`,
              replica.objects,
              formatSpread(seconds(rounds, "restore"), 2),
              formatSpread(seconds(rounds, "reference"), 2),
              formatSpread(vsReference(rounds), 2),
              formatSpread(seconds(rounds, "baseline"), 2),
              formatSpread(ratio(rounds), 2),
              formatSpread(rssMb(rounds, "restore"), 0),
              formatSpread(rssMb(rounds, "reference"), 0),
              formatSpread(rssMb(rounds, "baseline"), 0),
            ]),
          ],
        },
      ],
      charts: [timeChart(results)],
      goals: [
        ...results.map(({ replica, rounds }) => ({
          name: `restore ${replica.sizeMb} MB vs the reference restore (lz4 + sqlite3 CLIs)`,
          goal: `≤ ${REFERENCE_GOAL_RATIO.toFixed(1)}× its wall time`,
          measured: `${vsReference(rounds).median.toFixed(2)}× (median of ${ctx.rounds} rounds; ${seconds(rounds, "restore").median.toFixed(2)} s vs ${seconds(rounds, "reference").median.toFixed(2)} s)`,
          met: vsReference(rounds).median <= REFERENCE_GOAL_RATIO,
        })),
        ...results.map(({ replica, rounds }) => ({
          name: `restore ${replica.sizeMb} MB peak RSS`,
          goal: `≤ ${RSS_GOAL_MB} MB`,
          measured: `${rssMb(rounds, "restore").median.toFixed(0)} MB (median of ${ctx.rounds} rounds)`,
          met: rssMb(rounds, "restore").median <= RSS_GOAL_MB,
        })),
        ...results.map(({ replica, rounds }) => ({
          name: `restore ${replica.sizeMb} MB vs download + decode`,
          goal: `≥ ${GOAL_RATIO}×`,
          measured: `${ratio(rounds).median.toFixed(2)}× (median of ${ctx.rounds} rounds; ${workRatio(rounds).toFixed(2)}× without each program's start-up)`,
          met: ratio(rounds).median >= GOAL_RATIO,
        })),
        {
          name: `restore peak RSS flat in database size (${SIZES_MB[1]} MB vs ${SIZES_MB[0]} MB)`,
          goal: `≤ ${RSS_FLAT_FACTOR}×`,
          measured: `${rssGrowth.toFixed(2)}× (${rssMb(large.rounds, "restore").median.toFixed(0)} MB vs ${rssMb(small.rounds, "restore").median.toFixed(0)} MB)`,
          met: rssGrowth <= RSS_FLAT_FACTOR,
        },
      ],
      notes: [
        "The database is built directly with bulk inserts, then a litepaste server replicates it (its first snapshot), takes " +
          `${WAL_PASTES} more pastes a few sync intervals apart (a few WAL segments) and stops cleanly.`,
        "Restore: wall time of `node dist/cli/main.js restore -o FILE URL` from spawn to exit: listing, downloading, decoding, verifying " +
          "every WAL frame, applying them, PRAGMA quick_check and the rename.",
        "Reference: Litestream v0.3's restore algorithm with the tools it rests on, as `litestream restore` would run it: a Node process lists " +
          "the newest generation with the AWS SDK, streams the snapshot through `lz4 -d` into the output, then for each WAL index streams " +
          "its segments (in offset order, concatenated) through one `lz4 -d` into OUTPUT-wal and runs `sqlite3 OUTPUT \"PRAGMA wal_checkpoint(TRUNCATE)\"`, " +
          "so SQLite's checkpoint writes only the newest committed version of each page. It verifies nothing beyond the LZ4 and WAL " +
          "checksums the tools check, and skips quick_check, the fsyncs and the rename that litepaste does. Its peak RSS is the Node " +
          "driver's plus the largest tool process's (GNU time). Every round checks that both outputs are byte-identical. Ratio = restore " +
          "time / reference time: ≤ 1× means litepaste restores at least as fast.",
        "Baseline: wall time of a Node process that lists the same prefix with the AWS SDK (configured as litepaste's), downloads every " +
          "object one after another and LZ4-decodes it with litepaste's decoder, writing the decoded snapshot and WAL to files. It does " +
          "none of the checks. Ratio = baseline time / restore time, so 1× means restore runs at the raw speed.",
        "All include Node's start-up. The three take turns at running first in each round. Peak RSS is each process's " +
          "`process.resourceUsage().maxRSS` at exit (a preload module writes it).",
        "Start-up: `litepaste restore -h` and the baseline with no arguments, each loading its modules and exiting. `litepaste` " +
          "loads only the command's modules (cli/commands.ts imports each command on demand; an earlier run of this bench found it " +
          "loading the whole server first, 0.43 s against 0.25 s now), the baseline only the AWS SDK and the LZ4 decoder. A CPU " +
          "profile (`node --cpu-prof`) of a 10 MB restore on this machine, before that change: module loading and compiling " +
          "(wrapSafe, compileSourceTextModule, package.json reads) first, then LZ4 decodeBlock, garbage collection and xxh32 (the frame " +
          "checksum, since made about 10× faster).",
        "Where the reference is faster: a CPU profile (`node --cpu-prof`) of a 200 MB snapshot restore on this machine, 3.1 s of " +
          "samples under load: 0.70 s idle (waiting on the snapshot's writes and the final fsync), 0.49 s native LZ4 block decoding on " +
          "the main thread (not overlapped with the reads and writes), 0.44 s PRAGMA quick_check (the reference does none), 0.34 s GC, " +
          "0.16 s reads, 0.12 s writeBuffer, 0.10 s xxh32 content checksum. What would move it: decoding on a worker while the main " +
          "thread reads and writes, and the fsync and quick_check, which the reference skips.",
        `RSS counts as flat when the ${SIZES_MB[1]} MB restore peaks at most ${RSS_FLAT_FACTOR}× the ${SIZES_MB[0]} MB one.`,
      ],
    };
  },
};
