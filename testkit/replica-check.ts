// What the fault tests check after the fact: restore a replica into an empty directory with
// litepaste's own restore, and compare the pastes in a database with what clients were told.

import path from "node:path";
import Database from "better-sqlite3";
import { openReplicaClient } from "../replication/replica/url.js";
import { restoreReplica, type RestoreResult } from "../replication/restore.js";

/** Restores the newest generation of `replicaUrl` into `<emptyDir>/restored.db`, integrity-checked. */
export async function restoreToEmptyDir(replicaUrl: string, env: NodeJS.ProcessEnv, emptyDir: string): Promise<RestoreResult & { dbPath: string }> {
  const dbPath = path.join(emptyDir, "restored.db");
  const result = await restoreReplica(openReplicaClient(replicaUrl, env), { outputPath: dbPath, integrityCheck: true });
  return { ...result, dbPath };
}

export interface PasteComparison {
  /** Present with exactly the expected bytes. */
  readonly equal: string[];
  readonly missing: string[];
  /** Present with other bytes: corruption, always a failure. */
  readonly different: string[];
}

/** Looks up each expected paste in the database file at `dbPath` (LogPaste's schema). */
export function comparePastes(dbPath: string, expected: Iterable<readonly [string, Buffer]>): PasteComparison {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const select = db.prepare("SELECT CAST(contents AS BLOB) FROM entries WHERE id = ?").pluck();
    const result: PasteComparison = { equal: [], missing: [], different: [] };
    for (const [id, body] of expected) {
      const stored = select.get(id) as Buffer | null | undefined;
      if (stored === undefined) result.missing.push(id);
      else if ((stored ?? Buffer.alloc(0)).equals(body)) result.equal.push(id);
      else result.different.push(id);
    }
    return result;
  } finally {
    db.close();
  }
}
