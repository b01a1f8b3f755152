// Where a server spends its CPU, from the profile `node --cpu-prof` writes at exit: the
// functions with the most self time, for the report's notes on a missed goal.

import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../../test/helpers/paths.js";
import type { BenchContext } from "../scenario.js";
import type { LoadResult } from "./load.js";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotFunction {
  /** `name (file:line)`, files relative to the project. */
  readonly name: string;
  /** Share of the non-idle samples, 0–100. */
  readonly percent: number;
}

function fileOf(url: string): string {
  const file = url.startsWith("file://") ? path.relative(projectRoot, new URL(url).pathname) : url;
  // The shared install sits outside the project; its own path says nothing.
  return file.replace(/^.*\/node_modules\//, "node_modules/");
}

function describe(frame: ProfileNode["callFrame"]): string {
  const name = frame.functionName || "(anonymous)";
  return frame.url ? `${name} (${fileOf(frame.url)}:${frame.lineNumber + 1})` : name;
}

/** Who a function belongs to: litepaste, a package, Node itself, or native code. */
function originOf(frame: ProfileNode["callFrame"]): string {
  if (/^\(.*\)$/.test(frame.functionName)) return frame.functionName; // (garbage collector), (program), (idle)
  if (!frame.url) return "native (C++ bindings: sockets, files, SQLite)";
  if (frame.url.startsWith("node:")) return "Node core (JS)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  return pkg ? pkg[1]! : "litepaste";
}

export interface ProfileSummary {
  /** The functions with the most self time. */
  readonly functions: readonly HotFunction[];
  /** Self time by owner (litepaste, each package, Node core, native), largest first. */
  readonly origins: readonly HotFunction[];
}

function top(micros: ReadonlyMap<string, number>, total: number, count: number): HotFunction[] {
  return [...micros.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, percent: total > 0 ? (100 * us) / total : 0 }));
}

/** Self time in a .cpuprofile, idle time left out: the `count` hottest functions and owners. */
export function summarizeProfile(profileFile: string, count: number): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(profileFile, "utf8")) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id);
    if (!frame || frame.functionName === "(idle)") return;
    const micros = profile.timeDeltas[i] ?? 0;
    const name = describe(frame);
    const origin = originOf(frame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + micros);
    total += micros;
  });
  return { functions: top(byFunction, total, count), origins: top(byOrigin, total, count) };
}

/** The one profile a process wrote into `dir`. */
export function profileIn(dir: string): string {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length !== 1) throw new Error(`expected one .cpuprofile in ${dir}, found ${files.length}`);
  return path.join(dir, files[0]!);
}

const percentList = (list: readonly HotFunction[]) => list.map((h) => `${h.name} ${h.percent.toFixed(1)} %`).join("; ");

/** One sentence for a note: the hottest functions, then the split by owner. */
export function formatProfile(summary: ProfileSummary): string {
  return `top self time: ${percentList(summary.functions)}. By owner: ${percentList(summary.origins)}`;
}

/**
 * Starts a server with `--cpu-prof`, puts it under `load`, stops it and returns its hottest
 * functions: the bottleneck named in the notes of a missed goal.
 */
export async function profileUnderLoad(
  dir: string,
  start: (nodeArgs: string[]) => Promise<{ readonly url: string; stop(): Promise<number | null> }>,
  load: (url: string) => Promise<unknown>,
  count = 6,
): Promise<ProfileSummary> {
  fs.mkdirSync(dir, { recursive: true });
  const server = await start(["--cpu-prof", `--cpu-prof-dir=${dir}`]);
  try {
    await load(server.url);
  } finally {
    await server.stop();
  }
  return summarizeProfile(profileIn(dir), count);
}

/**
 * The note a missed goal gets: `server` (what it is, e.g. "the sync-mode server") profiled
 * under the load that missed, started by `start` with the profiler's flags.
 */
export async function missedGoalNote(opts: {
  readonly ctx: BenchContext;
  readonly goal: string;
  readonly server: string;
  readonly start: (nodeArgs: string[]) => Promise<{ readonly url: string; stop(): Promise<number | null> }>;
  readonly load: (url: string) => Promise<LoadResult>;
}): Promise<string> {
  opts.ctx.log(`${opts.goal}: goal missed, profiling ${opts.server}`);
  const dir = fs.mkdtempSync(path.join(opts.ctx.workDir, "profile-"));
  let seconds = 0;
  const summary = await profileUnderLoad(dir, opts.start, async (url) => {
    seconds = (await opts.load(url)).durationS;
  });
  return `${opts.goal} misses the goal. Profile of ${opts.server} under the same load (\`node --cpu-prof\`, ${seconds.toFixed(0)} s of load; start-up included), ${formatProfile(summary)}.`;
}
