// Servers under test run as processes of their own, as in production: started with a clean
// environment on 127.0.0.1, their output written to a log file (never piped through the
// runner, which would add the runner's CPU to theirs), ready once GET /healthz answers
// past the start-up (see ServerProcessOptions.ready).
// Tests, bench/ and scripts/soak.ts all start servers here; `litepaste` itself is CLI.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.js";
import { scratchDir } from "./scratch.js";
import { HANG_TIMEOUT_MS } from "./wait.js";

/** The `litepaste` command's script inside a build (dist/ here, /app/dist in the image): the one place that names it. */
export const CLI_IN_BUILD = "cli/main.js";
/** The command of the build these helpers run from. */
export const CLI = fileURLToPath(new URL(`../${CLI_IN_BUILD}`, import.meta.url));

/** Runs a command to completion (help, restore, listing…). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8", timeout: HANG_TIMEOUT_MS });
}

export interface ServerProcessOptions {
  /** A Node.js script run with this node; with `executable`, a program run by itself (its shebang picks the interpreter). */
  readonly script: string;
  readonly args?: readonly string[];
  /** Options for node itself, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  readonly executable?: boolean;
  /** Added to PATH, HOST=127.0.0.1 and PORT (a free port): nothing else of the runner's environment leaks in. */
  readonly env?: NodeJS.ProcessEnv;
  /** stdout and stderr go here (appended); by default a new file, removed when the runner exits. */
  readonly logFile?: string;
  /**
   * "answers" (the default): ready once /healthz answers other than the start-up's 503
   * (starting, waiting, restoring), since a server may start unhealthy (a writer conflict,
   * a sync-mode outage); "healthy": once it answers 200; "listening": once the port answers
   * at all, the start-up's 503 included (to watch a restore or a wait).
   */
  readonly ready?: "answers" | "healthy" | "listening";
  /** In a process group of its own, so that `process.kill(-pid)` reaches whatever it started. */
  readonly detached?: boolean;
  /** Only a hang misses the default. */
  readonly timeoutMs?: number;
}

export interface ServedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly logFile: string;
  /** Spawn → ready, in milliseconds (the bench's cold start). */
  readonly readyMs: number;
  /** Everything it wrote so far. */
  output(): string;
  /** Its exit code (null after a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM, and SIGKILL if it hangs; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL — a crash: nothing is flushed or closed — and wait for the process to be gone. */
  crash(): Promise<void>;
}

const POLL_MS = 5;
let logDir: string | undefined;
let logCount = 0;

function newLogFile(): string {
  logDir ??= scratchDir("litepaste-logs");
  return path.join(logDir, `server-${++logCount}.log`);
}

function readLog(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

const tail = (file: string) => readLog(file).split("\n").slice(-40).join("\n") || "(no output)";

/** Spawns with the log file as stdout and stderr; the child is SIGKILLed if the runner exits first. */
function launch(opts: ServerProcessOptions, port: number, logFile: string) {
  const log = fs.openSync(logFile, "a");
  const command = opts.executable ? opts.script : process.execPath;
  const args = opts.executable ? [...(opts.args ?? [])] : [...(opts.nodeArgs ?? []), opts.script, ...(opts.args ?? [])];
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH, HOST: "127.0.0.1", PORT: String(port), ...opts.env },
    stdio: ["ignore", log, log],
    detached: opts.detached ?? false,
  });
  fs.closeSync(log);
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => {
    process.off("exit", killOnExit);
    resolve(code);
  }));
  return { child, exited };
}

/** The /healthz states of a server that listens but is not started yet (server/startup-gate.ts). */
export const STARTUP_STATES: readonly string[] = ["starting", "waiting", "restoring"];

/** One GET of /healthz with a short timeout: "no answer" before the port is bound, "starting" while the start-up's 503 answers. */
async function healthOf(url: string): Promise<number | "no answer" | "starting"> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const body = await res.text();
    if (res.status === 503) {
      try {
        if (STARTUP_STATES.includes((JSON.parse(body) as { status?: string }).status ?? "")) return "starting";
      } catch {
        // not JSON: an answer of the running server
      }
    }
    return res.status;
  } catch {
    return "no answer";
  }
}

/** Starts the server and resolves once it is ready; rejects with its log if it exits first or hangs. */
export async function startServerProcess(opts: ServerProcessOptions): Promise<ServedProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = opts.logFile ?? newLogFile();
  const name = path.basename(opts.script);
  const started = performance.now();
  const { child, exited } = launch(opts, port, logFile);
  const isReady = (status: number | "no answer" | "starting") =>
    opts.ready === "healthy" ? status === 200 : opts.ready === "listening" ? status !== "no answer" : typeof status === "number";

  const deadline = started + (opts.timeoutMs ?? HANG_TIMEOUT_MS);
  let readyMs: number | undefined;
  while (readyMs === undefined) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before answering:\n${tail(logFile)}`);
    }
    if (performance.now() > deadline) {
      child.kill("SIGKILL");
      await exited;
      throw new Error(`${name} did not answer ${opts.ready === "healthy" ? "200 on " : ""}/healthz in time:\n${tail(logFile)}`);
    }
    if (isReady(await healthOf(`${url}/healthz`))) readyMs = performance.now() - started;
    else await sleep(POLL_MS);
  }

  let stopping: Promise<number | null> | undefined;
  return {
    child,
    pid: child.pid!,
    url,
    logFile,
    readyMs,
    output: () => readLog(logFile),
    exited,
    stop() {
      // The signal goes at the call itself, not a tick later (tests time it against uploads in flight).
      stopping ??= (async () => {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), HANG_TIMEOUT_MS);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
    async crash() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

export type ServeOptions = Omit<ServerProcessOptions, "script" | "executable" | "env">;

/** Starts `litepaste` with `env` (and `options.args`) and resolves once it answers /healthz. */
export function serveCli(env: NodeJS.ProcessEnv, options: ServeOptions = {}): Promise<ServedProcess> {
  return startServerProcess({ ...options, script: CLI, env });
}

/** Starts `litepaste` expecting it to fail before listening; resolves with its exit code and output. */
export async function failCli(env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ code: number | null; output: string }> {
  const logFile = newLogFile();
  const { child, exited } = launch({ script: CLI, args, env: { PORT: "0", ...env } }, 0, logFile);
  const timer = setTimeout(() => child.kill("SIGKILL"), HANG_TIMEOUT_MS);
  const code = await exited;
  clearTimeout(timer);
  return { code, output: readLog(logFile) };
}
