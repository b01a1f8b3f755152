import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { openStore } from "./store.js";
import { startTestApp } from "../../testkit/app-server.js";
import { freshDir } from "../../testkit/scratch.js";

test("a database created the way LogPaste creates it is served unchanged", async () => {
  const dir = freshDir("litepaste-store");
  const dbPath = path.join(dir, "data", "store.db");
  try {
    // LogPaste's migration SQL and insert, run by another SQLite program (the sqlite3 CLI), no litepaste code.
    execFileSync("mkdir", ["-p", path.dirname(dbPath)]);
    execFileSync("sqlite3", [
      dbPath,
      `CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    creation_time TEXT,
    contents TEXT
);
INSERT INTO entries(id, creation_time, contents) VALUES ('Ab3dE6gH', '2021-03-04T05:06:07-05:00', 'written by LogPaste' || char(10));`,
    ]);
    const app = await startTestApp({}, dbPath);
    try {
      const res = await fetch(`${app.url}/Ab3dE6gH`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "written by LogPaste\n");
      const put = await fetch(`${app.url}/`, { method: "PUT", body: "new paste" });
      assert.equal(put.status, 200);
    } finally {
      await app.close();
    }
    // The file stays a LogPaste database: same schema, TEXT contents, RFC3339 times.
    const db = new Database(dbPath, { readonly: true });
    const schema = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'entries'").pluck().get() as string;
    assert.match(schema, /id TEXT PRIMARY KEY,\s+creation_time TEXT,\s+contents TEXT/);
    const rows = db.prepare("SELECT id, creation_time, typeof(contents) AS type FROM entries ORDER BY creation_time").all() as Array<{ id: string; creation_time: string; type: string }>;
    db.close();
    assert.equal(rows.length, 2);
    for (const row of rows) assert.equal(row.type, "text");
    assert.match(rows[1]!.creation_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the store creates parent folders, uses WAL with LogPaste's busy timeout, and keeps bytes exact", async () => {
  const dir = freshDir("litepaste-store");
  const dbPath = path.join(dir, "a", "b", "store.db");
  try {
    const store = openStore(dbPath, { replicated: true, synchronous: "FULL" });
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a, 0xef, 0xbb, 0xbf, 0x00]);
    assert.equal(await store.insert("AAAAAAAA", bytes), true);
    assert.equal(await store.insert("AAAAAAAA", Buffer.from("other")), false, "an id is never overwritten");
    assert.ok(store.get("AAAAAAAA")!.contents.equals(bytes));
    assert.equal(store.get("missing1"), undefined);
    const created = store.get("AAAAAAAA")!.created!;
    assert.ok(Math.abs(created.getTime() - Date.now()) < 60_000, `created ${created.toISOString()} is about now`);
    assert.equal(created.getUTCMilliseconds(), 0, "whole seconds, as LogPaste writes them");
    let commits = 0;
    store.onCommit(() => commits++);
    await store.insert("BBBBBBBB", Buffer.from("x"));
    assert.equal(commits, 1);
    store.close();
    const db = new Database(dbPath);
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("creation times: LogPaste's offsets are read as the instant they name; an empty or odd column is no time", async () => {
  const dir = freshDir("litepaste-store");
  const dbPath = path.join(dir, "store.db");
  try {
    openStore(dbPath, { replicated: false, synchronous: "NORMAL" }).close();
    const db = new Database(dbPath);
    const insert = db.prepare("INSERT INTO entries (id, creation_time, contents) VALUES (?, ?, 'x')");
    insert.run("offset01", "2021-03-04T05:06:07-05:00");
    insert.run("nullTime", null);
    insert.run("oddTime1", "yesterday-ish");
    db.close();
    const store = openStore(dbPath, { replicated: false, synchronous: "NORMAL" });
    assert.equal(store.get("offset01")!.created!.toISOString(), "2021-03-04T10:06:07.000Z");
    assert.equal(store.get("nullTime")!.created, undefined);
    assert.equal(store.get("oddTime1")!.created, undefined);
    assert.equal(store.get("oddTime1")!.contents.toString(), "x");
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("with replication on, the app connection never checkpoints by itself", async () => {
  const dir = freshDir("litepaste-store");
  const dbPath = path.join(dir, "store.db");
  try {
    const store = openStore(dbPath, { replicated: true, synchronous: "NORMAL" });
    // Far past SQLite's 1000-page autocheckpoint: the WAL must still hold every frame.
    const page = Buffer.alloc(4000, "x");
    for (let i = 0; i < 1500; i++) await store.insert(`id${String(i).padStart(6, "0")}`, page);
    const walPages = Number(execFileSync("stat", ["-c", "%s", `${dbPath}-wal`]).toString()) / 4120;
    assert.ok(walPages > 1500, `WAL holds ${walPages} frames`);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("inserts asked for in the same turn share one transaction; a failed one fails them all and stores none", async () => {
  const dir = freshDir("litepaste-store");
  const dbPath = path.join(dir, "store.db");
  try {
    const store = openStore(dbPath, { replicated: false, synchronous: "FULL" });
    let commits = 0;
    store.onCommit(() => commits++);
    const rowCount = () => Number(execFileSync("sqlite3", [dbPath, "SELECT count(*) FROM entries"]).toString());
    const answers = await Promise.all(["CCCCCCCC", "DDDDDDDD", "CCCCCCCC", "EEEEEEEE"].map((id, i) => store.insert(id, Buffer.from(`paste ${i}`))));
    assert.deepEqual(answers, [true, true, false, true], "a taken id is refused inside a batch too");
    assert.equal(commits, 1, "one commit for the four");
    assert.equal(rowCount(), 3);
    assert.equal(store.get("CCCCCCCC")!.contents.toString(), "paste 0");

    // A trigger that aborts on one paste rolls the whole batch back: every insert of it rejects.
    const db = new Database(dbPath);
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON entries WHEN NEW.id = 'BADBADBA' BEGIN SELECT RAISE(ABORT, 'refused'); END");
    db.close();
    const batch = ["FFFFFFFF", "BADBADBA", "GGGGGGGG"].map((id) => store.insert(id, Buffer.from(id)));
    for (const answer of await Promise.allSettled(batch)) {
      assert.equal(answer.status, "rejected");
      assert.match(String((answer as PromiseRejectedResult).reason), /refused/);
    }
    assert.equal(store.get("FFFFFFFF"), undefined);
    assert.equal(rowCount(), 3);
    assert.equal(commits, 1);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
