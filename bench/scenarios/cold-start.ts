// Process spawn → first 200 on GET /healthz: with an empty database, and with the database
// missing locally and restored from the store at start (10 MB).

import fs from "node:fs";
import path from "node:path";
import type { BenchContext, Scenario } from "../scenario.js";
import { spreadBars } from "../lib/charts.js";
import { checkPaste, logText, putPaste } from "../lib/pastes.js";
import { serveCli } from "../../testkit/litepaste-process.js";
import { replicaEnv } from "../lib/replicated-server.js";
import { formatMB, formatNumber, formatSpread, spread } from "../lib/stats.js";
import { REPORTED } from "../report.js";
import { freshDir } from "../../testkit/scratch.js";

const RESTORE_BYTES = 10e6;
const PASTE_BYTES = 64 * 1024;
const REPLICA_PREFIX = "cold-start-10mb";

interface Variant {
  readonly name: string;
  /** For the chart's axis. */
  readonly short: string;
  /** Settings for a start in `dir`; the database file there never exists beforehand. */
  env(dir: string): Record<string, string>;
  /** Checked after each start, untimed: the start really did what its name says. */
  check(url: string, dir: string): Promise<void>;
}

/** Fills a replica with ≥ 10 MB of pastes once; returns one paste to check restores against. */
async function buildReplica(ctx: BenchContext): Promise<{ id: string; body: Buffer; dbBytes: number }> {
  const dir = freshDir("seed", ctx.workDir);
  const dbPath = path.join(dir, "seed.db");
  const server = await serveCli({ DB_PATH: dbPath, ...replicaEnv(ctx.store, REPLICA_PREFIX) }, { logFile: path.join(dir, "seed.log"), ready: "healthy" });
  let first: { id: string; body: Buffer } | undefined;
  try {
    for (let i = 0; i < Math.ceil(RESTORE_BYTES / PASTE_BYTES); i++) {
      const body = logText(PASTE_BYTES, 100 + i);
      const id = await putPaste(server.url, body);
      first ??= { id, body };
    }
  } finally {
    // A clean stop ships everything and checkpoints the WAL into the database file.
    await server.stop();
  }
  return { ...first!, dbBytes: fs.statSync(dbPath).size };
}

export const coldStart: Scenario = {
  id: "cold-start",
  title: "Cold start: process start to first 200",
  async run(ctx) {
    ctx.log("building the 10 MB replica");
    const seeded = await buildReplica(ctx);
    const dbPath = (dir: string) => path.join(dir, "store.db");
    const variants: Variant[] = [
      { name: "empty database, no replication", short: "empty, no replica", env: (dir) => ({ DB_PATH: dbPath(dir) }), check: async () => {} },
      {
        name: "empty database, replicating to an empty replica",
        short: "empty, replicating",
        env: (dir) => ({ DB_PATH: dbPath(dir), ...replicaEnv(ctx.store, `cold-start-empty-${path.basename(dir)}`) }),
        check: async () => {},
      },
      {
        name: `restore ${formatMB(seeded.dbBytes)} from the store at start`,
        short: `restore ${formatMB(seeded.dbBytes)}`,
        env: (dir) => ({ DB_PATH: dbPath(dir), ...replicaEnv(ctx.store, REPLICA_PREFIX) }),
        async check(url, dir) {
          await checkPaste(url, seeded.id, seeded.body);
          const size = fs.statSync(dbPath(dir)).size;
          if (size < seeded.dbBytes) throw new Error(`the restored database has ${size} bytes, the original ${seeded.dbBytes}`);
        },
      },
    ];
    const times = new Map<Variant, number[]>(variants.map((v) => [v, []]));
    for (let round = 0; round < ctx.rounds; round++) {
      for (const variant of variants) {
        const dir = freshDir(`start-${round}`, ctx.workDir);
        const server = await serveCli(variant.env(dir), { logFile: path.join(dir, "litepaste.log"), ready: "healthy" });
        try {
          await variant.check(server.url, dir);
        } finally {
          await server.stop();
        }
        times.get(variant)!.push(server.readyMs);
        ctx.log(`round ${round + 1}: ${variant.name}: ${formatNumber(server.readyMs)} ms`);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    const spreads = variants.map((v) => ({ name: v.name, short: v.short, ms: spread(times.get(v)!) }));
    return {
      settings: {
        "restored database": `${formatMB(seeded.dbBytes)} (${Math.ceil(RESTORE_BYTES / PASTE_BYTES)} pastes of 64 KiB log text), replicated by litepaste itself, restored from ${ctx.store.description}`,
        "ready": "the first 200 on GET /healthz, polled every 5 ms",
        logging: "LOG_LEVEL unset (info), stdout written to a file",
      },
      tables: [
        { caption: "Spawn → first 200, milliseconds, median (min–max)", columns: ["start", "ms"], rows: spreads.map((s) => [s.name, formatSpread(s.ms, 0)]) },
      ],
      charts: [
        {
          file: "cold-start.svg",
          title: "Cold start, spawn to first 200",
          spec: spreadBars("Spawn → first 200 (ms; median, whiskers: min–max)", "ms", spreads.map((s) => ({ group: s.short, series: "litepaste", ...s.ms }))),
        },
      ],
      // The issue asks only that these be reported; the summary lists them so they are seen.
      goals: spreads.map((s) => ({ name: `cold start, ${s.name}`, goal: REPORTED, measured: `${formatSpread(s.ms, 0)} ms`, met: true })),
      notes: [
        "Timed: from just before `spawn(node dist/cli/main.js)` to the first 200 answer on GET /healthz; Node's own start-up and module loading are included. Each start uses a new directory where the database file does not exist.",
        "The restore start finds no local database and a replica with data, so it downloads and applies the latest snapshot and WAL segments before it listens; after it is ready, a paste is read back and compared byte for byte (untimed).",
        "The issue sets no goal here: the numbers are reported.",
      ],
    };
  },
};
