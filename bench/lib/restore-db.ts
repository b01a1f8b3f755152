// A paste database of a given size for the restore scenario, built fast: LogPaste's schema
// (through openStore), then bulk inserts in large transactions. Paste bodies are slices of
// log-like text with random fields, so that LZ4 compresses them about as much as real logs
// and not to nothing.

import Database from "better-sqlite3";
import { openStore } from "../../server/pastes/store.js";
import { seededRandom } from "../../testkit/workload.js";

const POOL_BYTES = 1 << 20;
const MAX_ROWS_PER_TRANSACTION = 2000;
const MIN_PASTE_BYTES = 2048;
const MAX_PASTE_BYTES = 16 * 1024;
const LEVELS = ["DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR"];
const WORDS = ["request", "served", "cache", "miss", "retry", "upstream", "timeout", "user", "session", "query", "took", "bytes", "worker", "queue"];

function logPool(random: () => number): string {
  const hex = (digits: number) => Math.floor(random() * 16 ** digits).toString(16).padStart(digits, "0");
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const lines: string[] = [];
  let size = 0;
  for (let t = Date.UTC(2026, 0, 1); size < POOL_BYTES; t += Math.floor(random() * 5000)) {
    const words = Array.from({ length: 3 + Math.floor(random() * 6) }, () => pick(WORDS)).join(" ");
    const line = `${new Date(t).toISOString()} ${pick(LEVELS)} [${hex(8)}] ${words} id=${hex(12)} ms=${Math.floor(random() * 2000)}\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join("");
}

export interface BuiltDatabase {
  readonly bytes: number;
  readonly pastes: number;
}

/** Creates `dbPath` with pastes of 2–16 KiB until the file holds at least `targetBytes`. */
export function buildPasteDatabase(dbPath: string, targetBytes: number, seed = 1): BuiltDatabase {
  openStore(dbPath, { replicated: false, synchronous: "NORMAL" }).close();
  const random = seededRandom(seed);
  const pool = logPool(random);
  const db = new Database(dbPath);
  db.pragma("synchronous = OFF");
  const insert = db.prepare("INSERT INTO entries (id, creation_time, contents) VALUES (?, ?, CAST(? AS TEXT))");
  const fileBytes = () => (db.pragma("page_count", { simple: true }) as number) * (db.pragma("page_size", { simple: true }) as number);
  let pastes = 0;
  const batch = db.transaction((rows: number) => {
    for (let i = 0; i < rows; i++, pastes++) {
      const length = MIN_PASTE_BYTES + Math.floor(random() * (MAX_PASTE_BYTES - MIN_PASTE_BYTES));
      const start = Math.floor(random() * (pool.length - length));
      insert.run(`bench${pastes.toString(36)}`, "2026-01-01T00:00:00Z", pool.slice(start, start + length));
    }
  });
  // Big transactions for speed, smaller ones near the target so as not to overshoot it much.
  for (let missing = targetBytes; missing > 0; missing = targetBytes - fileBytes()) {
    batch(Math.max(1, Math.min(MAX_ROWS_PER_TRANSACTION, Math.floor(missing / MAX_PASTE_BYTES))));
  }
  db.pragma("wal_checkpoint(TRUNCATE)");
  const bytes = fileBytes();
  db.close();
  return { bytes, pastes };
}
