// The entry point run the way Docker runs it: the script itself as the process (its
// shebang picks the shell), a clean environment, and the server on 127.0.0.1.

import { readFileSync } from "node:fs";
import { startServerProcess, type ServedProcess } from "../../testkit/litepaste-process.js";

/** Only what the test sets: nothing from the developer's shell (a DB_REPLICA_URL…) leaks in. */
export function containerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // The machine's own /etc/litestream.yml (the entry point's default) must not reach a test either.
  return { PATH: process.env.PATH, HOST: "127.0.0.1", LOG_LEVEL: "warn", LITEPASTE_LITESTREAM_YML: "/nonexistent/litestream.yml", ...env };
}

export interface RunningEntrypoint extends ServedProcess {
  /** For clean-up after a failed assertion: SIGKILL to whatever is left of the process group. */
  kill(): void;
}

/** Starts `script args…` (SIGTERM from stop(), as `docker stop` sends it) and resolves once GET /healthz answers 200. */
export async function startEntrypoint(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<RunningEntrypoint> {
  // Its own process group, so that clean-up reaches a server left behind by a script that forgot to exec.
  const server = await startServerProcess({ script, args, executable: true, detached: true, env: containerEnv(env), ready: "healthy" });
  return {
    ...server,
    kill() {
      try {
        process.kill(-server.pid, "SIGKILL");
      } catch {
        // The group is gone already.
      }
    },
  };
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
