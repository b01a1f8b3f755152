// Load comes from autocannon in a process of its own, so the load generator and the
// runner's bookkeeping never share an event loop with each other or with the server.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const WORKER = fileURLToPath(new URL("./load-worker.js", import.meta.url));

export interface LoadRequest {
  readonly method: "GET" | "PUT";
  readonly path: string;
  readonly body?: string;
}

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  /** Each connection cycles through these in order. */
  readonly requests: readonly LoadRequest[];
}

export interface LoadResult {
  /** 2xx answers per second over the whole run. */
  readonly requestsPerSec: number;
  readonly requests: number;
  readonly bytesPerSec: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly mean: number };
  readonly durationS: number;
}

/** Runs autocannon; rejects if any request failed or answered other than 2xx (those would inflate req/s). */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}: ${stderr.trim()}`));
      try {
        resolve(JSON.parse(stdout) as LoadResult);
      } catch (err) {
        reject(new Error(`load generator printed no result: ${stdout.slice(0, 500)} ${stderr.trim()}`, { cause: err }));
      }
    });
    child.stdin.end(JSON.stringify(options));
  });
}
