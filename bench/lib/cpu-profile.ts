// Where a server spends its CPU, from the profile `node --cpu-prof` writes at exit. For a
// missed goal the two servers compared are profiled under the same load, and the note names
// what the slower one spends per request that the faster one does not.

import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../../testkit/paths.js";
import type { BenchContext } from "../scenario.js";
import type { LoadResult } from "./load.js";
import type { ServedProcess } from "../../testkit/litepaste-process.js";
import { freshDir } from "../../testkit/scratch.js";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time in microseconds, idle left out, keyed by function and by owner. */
export interface CpuCost {
  readonly totalMicros: number;
  /** `name (file:line)`, files relative to the project. */
  readonly byFunction: ReadonlyMap<string, number>;
  /** litepaste, a package name, "Node core (JS)", native code, or V8's own (garbage collector), (program). */
  readonly byOwner: ReadonlyMap<string, number>;
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

function ownerOf(frame: ProfileNode["callFrame"]): string {
  if (/^\(.*\)$/.test(frame.functionName)) return frame.functionName; // (garbage collector), (program)
  if (!frame.url) return "native (C++ bindings: sockets, files, SQLite)";
  if (frame.url.startsWith("node:")) return "Node core (JS)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  return pkg ? pkg[1]! : "litepaste";
}

function add(map: Map<string, number>, key: string, micros: number): void {
  map.set(key, (map.get(key) ?? 0) + micros);
}

/** The self time in a .cpuprofile, leaving out idle time and the first `skipMs` (start-up). */
export function readCpuCost(profileFile: string, skipMs = 0): CpuCost {
  const profile = JSON.parse(fs.readFileSync(profileFile, "utf8")) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let elapsed = 0;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i] ?? 0;
    elapsed += micros;
    const frame = frames.get(id);
    if (elapsed < skipMs * 1000 || !frame || frame.functionName === "(idle)") return;
    add(byFunction, describe(frame), micros);
    add(byOwner, ownerOf(frame), micros);
    total += micros;
  });
  return { totalMicros: total, byFunction, byOwner };
}

/** The one profile a process wrote into `dir`. */
export function profileIn(dir: string): string {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length !== 1) throw new Error(`expected one .cpuprofile in ${dir}, found ${files.length}`);
  return path.join(dir, files[0]!);
}

export type StartProfiled = (nodeArgs: string[]) => Promise<ServedProcess>;

/** CPU per answered request of a server under `load`, start-up left out. */
export interface PerRequestCost {
  readonly requests: number;
  readonly cost: CpuCost;
}

async function profileUnderLoad(dir: string, start: StartProfiled, load: (url: string) => Promise<LoadResult>): Promise<PerRequestCost> {
  fs.mkdirSync(dir, { recursive: true });
  const server = await start(["--cpu-prof", `--cpu-prof-dir=${dir}`]);
  let result;
  try {
    result = await load(server.url);
  } finally {
    await server.stop();
  }
  return { requests: result.requests, cost: readCpuCost(profileIn(dir), server.readyMs) };
}

const perRequest = (micros: number, requests: number) => micros / requests;
const us = (micros: number) => `${micros >= 10 ? micros.toFixed(0) : micros.toFixed(1)} µs`;

/** The keys where `slow` spends the most more per request than `fast`, largest first. */
function largestExtra(slow: PerRequestCost, fast: PerRequestCost, pick: (c: CpuCost) => ReadonlyMap<string, number>, count: number) {
  const keys = new Set([...pick(slow.cost).keys(), ...pick(fast.cost).keys()]);
  return [...keys]
    .map((key) => ({
      key,
      extra: perRequest(pick(slow.cost).get(key) ?? 0, slow.requests) - perRequest(pick(fast.cost).get(key) ?? 0, fast.requests),
    }))
    .filter((d) => d.extra > 0)
    .sort((a, b) => b.extra - a.extra)
    .slice(0, count);
}

/** One paragraph: CPU per request of each, and where the slower one's extra goes. */
export function formatCostComparison(slowName: string, slow: PerRequestCost, fastName: string, fast: PerRequestCost, count = 6): string {
  const slowTotal = perRequest(slow.cost.totalMicros, slow.requests);
  const fastTotal = perRequest(fast.cost.totalMicros, fast.requests);
  const list = (items: Array<{ key: string; extra: number }>) => items.map((d) => `${d.key} +${us(d.extra)}`).join("; ");
  return (
    `CPU per answered request (self time, start-up left out): ${slowName} ${us(slowTotal)}, ${fastName} ${us(fastTotal)}. ` +
    `Where ${slowName} spends more, by owner: ${list(largestExtra(slow, fast, (c) => c.byOwner, count))}. ` +
    `By function: ${list(largestExtra(slow, fast, (c) => c.byFunction, count))}`
  );
}

/**
 * The note a missed goal gets: both servers of the comparison profiled, one after the
 * other, under the load that missed; the note names what the slower one spends more on.
 */
export async function missedGoalNote(opts: {
  readonly ctx: BenchContext;
  /** What missed, e.g. "GET 1 KiB". */
  readonly goal: string;
  readonly slow: { readonly name: string; readonly start: StartProfiled };
  readonly fast: { readonly name: string; readonly start: StartProfiled };
  readonly load: (url: string) => Promise<LoadResult>;
}): Promise<string> {
  opts.ctx.log(`${opts.goal}: goal missed, profiling ${opts.slow.name} and ${opts.fast.name}`);
  const slow = await profileUnderLoad(freshDir("profile", opts.ctx.workDir), opts.slow.start, opts.load);
  const fast = await profileUnderLoad(freshDir("profile", opts.ctx.workDir), opts.fast.start, opts.load);
  return `${opts.goal} misses the goal. Both servers profiled under the same load (\`node --cpu-prof\`). ${formatCostComparison(opts.slow.name, slow, opts.fast.name, fast)}.`;
}
