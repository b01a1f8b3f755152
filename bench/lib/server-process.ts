// Servers under test run as processes of their own, as in production: started with an
// environment, their log written to a file (never piped through the runner, which would
// add the runner's CPU to theirs), and ready at the first 200 on a health path.

import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../testkit/ports.js";
import { projectRoot } from "../../testkit/paths.js";
import type { BenchObjectStore } from "../scenario.js";

export const LITEPASTE_CLI = path.join(projectRoot, "dist/cli/main.js");

export interface ServerProcessOptions {
  /** The script to run with node. */
  readonly script: string;
  readonly env: Readonly<Record<string, string>>;
  /** stdout and stderr go here (appended). */
  readonly logFile: string;
  /** Options for node itself, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** Polled until it answers 200. */
  readonly readyPath?: string;
  readonly timeoutMs?: number;
}

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  readonly logFile: string;
  /** Spawn → first 200 on the ready path, in milliseconds. */
  readonly readyMs: number;
  /** SIGTERM, and SIGKILL if it has not exited after 30 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const POLL_MS = 5;

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

function logTail(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-20).join("\n");
  } catch {
    return "(no output)";
  }
}

/** One GET with a short timeout; "no answer" while the process is still starting. */
async function statusOf(url: string): Promise<number | "no answer"> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return "no answer";
  }
}

export async function startServerProcess(opts: ServerProcessOptions): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = fs.openSync(opts.logFile, "a");
  const started = performance.now();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script], {
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: String(port), ...opts.env },
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const exited = exitOf(child);

  const deadline = started + (opts.timeoutMs ?? 60_000);
  let readyMs: number | undefined;
  while (readyMs === undefined) {
    if (child.exitCode !== null || child.signalCode !== null) {
      process.off("exit", killOnExit);
      throw new Error(`${path.basename(opts.script)} exited (${child.exitCode ?? child.signalCode}) before answering:\n${logTail(opts.logFile)}`);
    }
    if (performance.now() > deadline) {
      child.kill("SIGKILL");
      await exited;
      process.off("exit", killOnExit);
      throw new Error(`${path.basename(opts.script)} did not answer 200 on ${opts.readyPath ?? "/healthz"} in time:\n${logTail(opts.logFile)}`);
    }
    if ((await statusOf(url + (opts.readyPath ?? "/healthz"))) === 200) readyMs = performance.now() - started;
    else await sleep(POLL_MS);
  }

  let stopping: Promise<number | null> | undefined;
  return {
    url,
    pid: child.pid!,
    logFile: opts.logFile,
    readyMs,
    stop() {
      stopping ??= (async () => {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        const code = await exited;
        clearTimeout(timer);
        process.off("exit", killOnExit);
        return code;
      })();
      return stopping;
    },
  };
}

/** litepaste (`node dist/cli/main.js`) with the given settings, logging at its default level. */
export function startLitepaste(
  env: Readonly<Record<string, string>>,
  logFile: string,
  extra: Pick<ServerProcessOptions, "nodeArgs" | "timeoutMs"> = {},
): Promise<ServerProcess> {
  return startServerProcess({ script: LITEPASTE_CLI, env, logFile, readyPath: "/healthz", ...extra });
}

/** The settings that make litepaste replicate to the bench's store under `prefix`. */
export function replicaEnv(store: BenchObjectStore, prefix: string, mode: "async" | "sync" = "async"): Record<string, string> {
  return { ...store.env, DB_REPLICA_URL: store.url(prefix), DB_SYNC_MODE: mode };
}

/**
 * Checks that replication kept up without errors: a throughput number measured while
 * uploads failed would compare nothing. Returns the /healthz replication object.
 */
export async function assertReplicationHealthy(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/healthz`);
  const body = (await res.json()) as { replication: Record<string, unknown> | null };
  if (res.status !== 200 || !body.replication || body.replication.lastError !== null) {
    throw new Error(`replication is not healthy after the load: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.replication;
}
