// The local record that lets a clean restart continue the same generation.
//
// It is written at a clean stop, after the app closed the database (SQLite then checkpointed
// everything and removed `-wal`), and says: "the replica's generation G holds every WAL
// round below `index`, and its end state is exactly this database file". On the next
// start it is consumed (removed) whatever the outcome, so that a crash later in that run
// can never leave a record that looks valid.

import { readFileSync, rmSync } from "node:fs";
import { writeFileDurably } from "../../internal/durable-file.js";
import { isGenerationId } from "../replica/layout.js";
import type { DatabaseFingerprint } from "../sqlite/database-file.js";

export interface PersistedPosition {
  readonly generation: string;
  /** The WAL index the next run ships into (the previous run's last index + 1). */
  readonly index: number;
  readonly database: DatabaseFingerprint;
}

export function positionPathOf(dbPath: string): string {
  return `${dbPath}.litepaste-position`;
}

function isPosition(value: unknown): value is PersistedPosition {
  const v = value as PersistedPosition | null;
  return (
    typeof v === "object" && v !== null &&
    typeof v.generation === "string" && isGenerationId(v.generation) &&
    Number.isSafeInteger(v.index) && v.index >= 0 &&
    typeof v.database === "object" && v.database !== null &&
    Number.isSafeInteger(v.database.size) && typeof v.database.sha256 === "string"
  );
}

/** Reads and removes the record; null when there is none or it is unreadable (said why in `problem`). */
export function takePosition(dbPath: string): { position: PersistedPosition | null; problem: string | null } {
  const file = positionPathOf(dbPath);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { position: null, problem: null };
    throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  rmSync(file, { force: true });
  try {
    const value: unknown = JSON.parse(text);
    if (isPosition(value)) return { position: value, problem: null };
  } catch {
    // fall through: a torn or hand-edited file is as good as none
  }
  return { position: null, problem: `${file} is not a valid position record` };
}

/** Writes the record atomically (temporary file, fsync, rename, directory fsync). */
export function writePosition(dbPath: string, position: PersistedPosition): void {
  writeFileDurably(positionPathOf(dbPath), `${JSON.stringify(position, null, 2)}\n`);
}

export function removePosition(dbPath: string): void {
  rmSync(positionPathOf(dbPath), { force: true });
}
