// Runs ./proc-put-load.ts in a child process and returns every answer it got.

import { benchScript, runNode } from "./proc-node.js";
import type { PutLoadOptions, PutLoadResult } from "./proc-put-load.js";

const LOAD_SCRIPT = benchScript(import.meta.url, "proc-put-load.js");

export async function runPutLoad(options: PutLoadOptions, scratchDir: string): Promise<PutLoadResult> {
  const run = await runNode(LOAD_SCRIPT, [JSON.stringify(options)], {}, scratchDir);
  const result = JSON.parse(run.stdout) as PutLoadResult;
  const failed = result.answers.filter((a) => a.status !== 200).length;
  if (failed > 0 || result.errors > 0) {
    throw new Error(`PUT load against ${options.url}: ${failed} answers other than 200 and ${result.errors} errors or timeouts`);
  }
  return result;
}
