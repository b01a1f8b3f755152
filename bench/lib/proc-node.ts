// Runs a Node script as a child process and measures it from the outside: wall time from
// spawn to exit, and the child's peak RSS (through ./proc-rss-preload.ts).

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const PRELOAD = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), "proc-rss-preload.js")).href;

export interface NodeRun {
  readonly stdout: string;
  readonly stderr: string;
  /** Spawn to exit, including Node's own start-up. */
  readonly wallMs: number;
  readonly maxRssBytes: number;
}

/** Runs `node script ...args` with `env` (plus PATH); rejects with its output unless it exits 0. */
export async function runNode(script: string, args: readonly string[], env: Readonly<Record<string, string>>, scratchDir: string): Promise<NodeRun> {
  const rssFile = path.join(scratchDir, `max-rss-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", PRELOAD, script, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env, BENCH_MAX_RSS_FILE: rssFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`${path.basename(script)} ${args.join(" ")} exited with ${code}:\n${stderr}${stdout}`);
  const maxRssBytes = Number(fs.readFileSync(rssFile, "utf8"));
  fs.rmSync(rssFile, { force: true });
  return { stdout, stderr, wallMs, maxRssBytes };
}

/** The compiled file of a bench script, next to the caller's compiled module. */
export function benchScript(fromModuleUrl: string, relative: string): string {
  return path.join(path.dirname(fileURLToPath(fromModuleUrl)), relative);
}
