// The paste store: LogPaste's SQLite schema, byte-exact contents, and one hook that the
// replicator needs (a write transaction committed).

import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

export interface StoreOptions {
  /** Checkpoints belong to the replicator while it runs, so the app never checkpoints by itself. */
  readonly replicated: boolean;
  /** FULL when an acknowledgement promises durability (sync mode); NORMAL is safe in WAL mode otherwise. */
  readonly synchronous: "FULL" | "NORMAL";
}

/** A stored paste as read back: the exact bytes and LogPaste's creation_time column. */
export interface StoredPaste {
  readonly contents: Buffer;
  /** When it was stored; undefined when the column is empty or not a time (a hand-edited database). */
  readonly created: Date | undefined;
}

export interface Store {
  /**
   * Inserts a paste; false when the id is taken (the caller draws another). Inserts made in
   * the same turn of the event loop share one transaction (group commit): one WAL commit,
   * and in sync mode one fsync, for all of them. Rejects with SQLite's error if it fails.
   */
  insert(id: string, contents: Buffer): Promise<boolean>;
  /** The exact bytes stored and their creation time, or undefined for an unknown id. */
  get(id: string): StoredPaste | undefined;
  /** Quick liveness probe for health checks. */
  ping(): void;
  /** Called after every committed write transaction. */
  onCommit(listener: () => void): void;
  close(): void;
}

/** The store's connection settings (the replication tests open their "app" connection with these too). */
export const STORE_PRAGMAS = ["journal_mode = WAL", "busy_timeout = 5000"] as const;
/** And with replication on: checkpoints belong to the replicator. */
export const REPLICATED_STORE_PRAGMAS = ["wal_autocheckpoint = 0"] as const;

// LogPaste's migration, unchanged, so that either program opens the other's database.
const SCHEMA = `CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    creation_time TEXT,
    contents TEXT
);`;

/** LogPaste writes Go's time.RFC3339 ("2006-01-02T15:04:05Z07:00"), without fractions. */
function rfc3339Now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** LogPaste's RFC 3339 text (ours too); anything Date cannot read is no time at all. */
function parseCreationTime(text: string | null): Date | undefined {
  if (text === null || text === "") return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function openStore(dbPath: string, options: StoreOptions): Store {
  mkdirSync(path.dirname(dbPath), { recursive: true });
  const db = new Database(dbPath);
  for (const pragma of STORE_PRAGMAS) db.pragma(pragma);
  db.pragma(`synchronous = ${options.synchronous}`);
  if (options.replicated) for (const pragma of REPLICATED_STORE_PRAGMAS) db.pragma(pragma);
  db.exec(SCHEMA);

  // CAST(? AS TEXT) keeps the column's TEXT type (as LogPaste stores it) while storing the
  // bytes unchanged: SQLite does not validate UTF-8, so NULs and invalid sequences survive.
  const insert = db.prepare("INSERT OR IGNORE INTO entries (id, creation_time, contents) VALUES (?, ?, CAST(? AS TEXT))");
  const select = db.prepare("SELECT CAST(contents AS BLOB) AS contents, creation_time FROM entries WHERE id = ?");
  // Reads the schema page, so a database that has become unreadable fails the probe.
  const ping = db.prepare("SELECT count(*) FROM sqlite_master").pluck();
  const listeners: Array<() => void> = [];

  interface PendingInsert {
    readonly id: string;
    readonly contents: Buffer;
    resolve(inserted: boolean): void;
    reject(err: unknown): void;
  }
  let pending: PendingInsert[] = [];
  const insertAll = db.transaction((rows: readonly PendingInsert[]) => {
    const creationTime = rfc3339Now();
    return rows.map((row) => insert.run(row.id, creationTime, row.contents).changes === 1);
  });
  // Runs once the current turn's requests have all asked: a transaction rolled back (disk
  // full, say) fails each of them, and none of them is stored.
  const commitPending = () => {
    const rows = pending;
    pending = [];
    let inserted: boolean[];
    try {
      inserted = insertAll(rows);
    } catch (err) {
      for (const row of rows) row.reject(err);
      return;
    }
    if (inserted.includes(true)) for (const listener of listeners) listener();
    rows.forEach((row, i) => row.resolve(inserted[i]!));
  };

  return {
    insert(id, contents) {
      return new Promise<boolean>((resolve, reject) => {
        if (pending.length === 0) setImmediate(commitPending);
        pending.push({ id, contents, resolve, reject });
      });
    },
    get(id) {
      const row = select.get(id) as { contents: Buffer | null; creation_time: string | null } | undefined;
      if (row === undefined) return undefined;
      // A NULL or empty contents column (possible in a hand-edited LogPaste database) is an empty paste.
      return { contents: row.contents ?? Buffer.alloc(0), created: parseCreationTime(row.creation_time) };
    },
    ping() {
      ping.get();
    },
    onCommit(listener) {
      listeners.push(listener);
    },
    close() {
      db.close();
    },
  };
}
