// SQLite files for replication tests: an "app" connection set up the way the server's
// store is when replication is on, and a content dump to compare databases by.

import { createHash } from "node:crypto";
import Database from "better-sqlite3";
import { REPLICATED_STORE_PRAGMAS, STORE_PRAGMAS } from "../server/pastes/store.js";

/** The app's connection, set up as the server's store sets up its own with replication on. */
export function openAppDatabase(dbPath: string, synchronous: "NORMAL" | "FULL" = "NORMAL"): Database.Database {
  const db = new Database(dbPath);
  for (const pragma of STORE_PRAGMAS) db.pragma(pragma);
  db.pragma(`synchronous = ${synchronous}`);
  for (const pragma of REPLICATED_STORE_PRAGMAS) db.pragma(pragma);
  return db;
}

/** Every row of every table, in rowid order, as text (blobs in hex), one line each, schema lines first per table. */
function* databaseLines(dbPath: string): Generator<string> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as Array<{ name: string; sql: string }>;
    for (const { name, sql } of tables) {
      yield `-- ${sql}`;
      for (const row of db.prepare(`SELECT rowid AS _rowid_, * FROM "${name}" ORDER BY rowid`).raw().iterate() as Iterable<unknown[]>) {
        yield JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? `x'${v.toString("hex")}'` : typeof v === "bigint" ? v.toString() : v));
      }
    }
  } finally {
    db.close();
  }
}

/** The whole content as text: equal dumps, equal content. */
export function dumpDatabase(dbPath: string): string {
  return [...databaseLines(dbPath)].join("\n");
}

/** A SHA-256 of dumpDatabase's text, without holding it: for databases too big to dump into a string. */
export function digestDatabase(dbPath: string): { sha256: string; rows: number } {
  const hash = createHash("sha256");
  let rows = 0;
  for (const line of databaseLines(dbPath)) {
    hash.update(line).update("\n");
    if (!line.startsWith("-- ")) rows++;
  }
  return { sha256: hash.digest("hex"), rows };
}
