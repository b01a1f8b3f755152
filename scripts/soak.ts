// `npm run soak [-- --kills N] [--minutes M] [--seed S]`: the crash cycle of the tests
// (testkit/crash-cycle.ts), hundreds of times: batches of kills alternating sync and
// async mode, each batch on a fresh replica prefix and data disk. Prints progress, then
// rewrites the marked section of docs/reliability.md with the tally. Exit code 1 if any
// paste the server had to keep was lost.

import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { runCrashCycles, type CrashTally, type SyncMode } from "../testkit/crash-cycle.js";
import { commitDescription, machineDescription, RELIABILITY_DOC, writeMarkedSection } from "../testkit/run-record.js";
import { startS3rver } from "../testkit/s3rver.js";
import { freshDir } from "../testkit/scratch.js";

const MAX_BATCH = 20;

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "200" },
    minutes: { type: "string", default: "120" },
    seed: { type: "string" },
  },
});
const kills = Number(values.kills);
const minutes = Number(values.minutes);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isInteger(kills) || kills < 2 || !(minutes > 0) || !Number.isInteger(seed)) {
  process.stderr.write("usage: npm run soak -- [--kills N (2 or more)] [--minutes M] [--seed S]\n");
  process.exit(2);
}

const stamp = () => new Date().toISOString().slice(11, 19);
const say = (line: string) => process.stdout.write(`[${stamp()}] ${line}\n`);

function sum(tallies: CrashTally[], field: "kills" | "acknowledged" | "required" | "verifications" | "inWindow" | "inWindowMissing"): number {
  return tallies.reduce((n, t) => n + t[field], 0);
}

function section(tallies: CrashTally[], startedAt: Date, seconds: number): string {
  const by = (mode: SyncMode) => tallies.filter((t) => t.mode === mode);
  const row = (label: string, value: (ts: CrashTally[]) => string | number) =>
    `| ${label} | ${value(by("sync"))} | ${value(by("async"))} | ${value(tallies)} |`;
  const asyncOnly = (value: (ts: CrashTally[]) => string | number) => (ts: CrashTally[]) => {
    const runs = ts.filter((t) => t.mode === "async");
    return runs.length > 0 ? value(runs) : "—";
  };
  const lost = (ts: CrashTally[]) => ts.reduce((n, t) => n + t.lost.length, 0);
  const refusals = (ts: CrashTally[]) => {
    const all: Record<string, number> = {};
    for (const t of ts) for (const [status, n] of Object.entries(t.refusals)) all[status] = (all[status] ?? 0) + n;
    return Object.entries(all).map(([status, n]) => `${n} × ${status}`).join(", ") || "none";
  };
  return [
    `Last soak run: ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC, ${(seconds / 60).toFixed(1)} minutes, ` +
      `commit ${commitDescription()}, seed ${seed}; machine: ${machineDescription()}.`,
    "",
    "| | sync | async | total |",
    "|---|---|---|---|",
    row("kills survived (`kill -9`, then restore into an empty directory)", (ts) => sum(ts, "kills")),
    row("pastes acknowledged (200)", (ts) => sum(ts, "acknowledged")),
    row("acknowledged pastes checked (required to survive)", (ts) => sum(ts, "required")),
    row("checks made (each required paste after every later kill)", (ts) => sum(ts, "verifications")),
    row("**pastes lost**", (ts) => `**${lost(ts)}**`),
    row("async: acknowledged inside the window before a kill (may be lost)", asyncOnly((ts) => sum(ts, "inWindow"))),
    row("async: of those, not in the replica at the kill", asyncOnly((ts) => sum(ts, "inWindowMissing"))),
    row("async: widest window allowed (sync interval 200 ms + one upload, + 150 ms timer slack)", asyncOnly((ts) => `${Math.max(...ts.map((t) => t.widestWindowMs))} ms`)),
    row("answers other than 200", refusals),
  ].join("\n");
}

// Small runs still cover both modes.
const batchSize = Math.min(MAX_BATCH, Math.ceil(kills / 2));
const startedAt = new Date();
const deadline = startedAt.getTime() + minutes * 60_000;
const workRoot = freshDir("litepaste-soak");
const s3 = await startS3rver({ dir: path.join(workRoot, "s3") });
const tallies: CrashTally[] = [];
say(`soak: ${kills} kills in batches of ${batchSize}, alternating sync and async, at most ${minutes} minutes, seed ${seed}`);
try {
  for (let batch = 0; sum(tallies, "kills") < kills && Date.now() < deadline; batch++) {
    const mode: SyncMode = batch % 2 === 0 ? "sync" : "async";
    const workDir = freshDir(mode, workRoot);
    const tally = await runCrashCycles({
      mode, s3, workDir, prefix: `soak-${batch}`, seed: seed + batch, deadline,
      kills: Math.min(batchSize, kills - sum(tallies, "kills")),
      log: say,
    });
    tallies.push(tally);
    fs.rmSync(workDir, { recursive: true, force: true });
    for (const lost of tally.lost) say(`LOST ${JSON.stringify(lost)} (${mode}, seed ${seed + batch})`);
    say(`after batch ${batch + 1}: ${sum(tallies, "kills")} kills, ${sum(tallies, "acknowledged")} acknowledged, ${tallies.reduce((n, t) => n + t.lost.length, 0)} lost`);
  }
} finally {
  await s3.dispose();
  fs.rmSync(workRoot, { recursive: true, force: true });
}
const lost = tallies.reduce((n, t) => n + t.lost.length, 0);
writeMarkedSection("soak", section(tallies, startedAt, (Date.now() - startedAt.getTime()) / 1000));
say(`done: ${sum(tallies, "kills")} kills, ${sum(tallies, "required")} acknowledged pastes checked, ${lost} lost; tally written to ${path.relative(process.cwd(), RELIABILITY_DOC)}`);
process.exit(lost === 0 ? 0 : 1);
