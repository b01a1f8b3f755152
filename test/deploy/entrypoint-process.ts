// The entry point run the way Docker runs it: the script itself as the process (its
// shebang picks the shell), a clean environment, and the server on 127.0.0.1.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { freePort } from "../../testkit/ports.js";

/** Only what the test sets: nothing from the developer's shell (a DB_REPLICA_URL…) leaks in. */
export function containerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOST: "127.0.0.1", LOG_LEVEL: "warn", ...env };
}

export interface RunningEntrypoint {
  readonly pid: number;
  readonly url: string;
  output(): string;
  /** SIGTERM, as `docker stop` sends it; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** For clean-up after a failed assertion: SIGKILL to whatever is left of the process group. */
  kill(): void;
}

/** Starts `script args…` and resolves once GET /healthz answers 200. */
export async function startEntrypoint(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<RunningEntrypoint> {
  const port = await freePort();
  // Its own process group, so that clean-up reaches a server left behind by a script that forgot to exec.
  const child = spawn(script, args, { env: containerEnv({ PORT: String(port), ...env }), stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const running: RunningEntrypoint = {
    pid: child.pid!,
    url,
    output: () => output,
    stop() {
      child.kill("SIGTERM");
      return exited;
    },
    kill() {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // The group is gone already.
      }
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode} before serving:\n${output}`);
    const healthy = await fetch(`${url}/healthz`).then(
      (res) => res.status === 200,
      () => false,
    );
    if (healthy) return running;
    if (Date.now() > deadline) {
      running.kill();
      throw new Error(`${script} did not answer /healthz within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A process's arguments, as the kernel holds them. */
export function processArgv(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
}

/** A process's environment, as the kernel holds it. */
export function processEnv(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").slice(0, -1);
  return new Map(entries.map((entry) => entry.split(/=(.*)/s, 2) as [string, string]));
}
