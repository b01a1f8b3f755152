// The V8 heap's size as `node --trace-gc` reports it after each collection: set against
// the RSS, it tells JavaScript objects apart from memory outside the JS heap (Buffers,
// SQLite, the C allocator).

import fs from "node:fs";

// "… ms: Scavenge 12.3 (15.0) -> 11.1 (16.0) MB, …": used (committed) before -> after, in MiB.
const GC_LINE = /: (?:Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact|Minor Mark-Sweep)\b[^\n]*? [\d.]+ \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/g;

export interface HeapTrace {
  readonly collections: number;
  /** The most the heap had committed (reserved from the OS), in bytes. */
  readonly maxCommittedBytes: number;
  /** The most live data left after a collection, in bytes. */
  readonly maxLiveBytes: number;
}

export function readHeapTrace(logFile: string): HeapTrace {
  let collections = 0;
  let committed = 0;
  let live = 0;
  for (const match of fs.readFileSync(logFile, "utf8").matchAll(GC_LINE)) {
    collections++;
    committed = Math.max(committed, Number(match[1]), Number(match[3]));
    live = Math.max(live, Number(match[2]));
  }
  if (collections === 0) throw new Error(`no --trace-gc lines in ${logFile}`);
  return { collections, maxCommittedBytes: committed * 2 ** 20, maxLiveBytes: live * 2 ** 20 };
}
