import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import { readAll } from "./replica/contract.js";
import { captureDatabaseImage } from "./snapshot.js";
import { openAppDatabase } from "../testkit/replication-db.js";
import { testDir } from "../testkit/scratch.js";

function setUp(t: { after(fn: () => void): void }) {
  const dbPath = path.join(testDir(t), "db");
  const app = openAppDatabase(dbPath);
  const replicator = new Database(dbPath);
  t.after(() => {
    replicator.close();
    app.close();
  });
  app.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)");
  const insert = app.prepare("INSERT INTO t (body) VALUES (randomblob(?))");
  return { dbPath, app, replicator, insert };
}

/** What the database is now, page for page, as SQLite itself serializes it. */
function serialized(dbPath: string): Buffer {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.serialize();
  } finally {
    db.close();
  }
}

test("the image is the database page for page: from the file, from the WAL, and from both", async (t) => {
  const { dbPath, app, replicator, insert } = setUp(t);
  for (let i = 0; i < 30; i++) insert.run(300 + i * 50);
  app.pragma("wal_checkpoint(PASSIVE)"); // some of the database is in the file now
  for (let i = 0; i < 10; i++) insert.run(5000); // overflow pages, in the WAL only
  app.prepare("UPDATE t SET body = randomblob(100) WHERE id % 3 = 0").run();

  const expected = serialized(dbPath);
  const image = captureDatabaseImage(replicator, dbPath);
  try {
    assert.equal(image.pageCount * image.pageSize, expected.length);
    assert.ok(image.walOffset > 0);
    assert.ok((await readAll(image.pages())).equals(expected));
  } finally {
    image.release();
  }
});

test("the image stays the state it was captured at while writes, checkpoints and a shrink go on", async (t) => {
  const { dbPath, app, replicator, insert } = setUp(t);
  for (let i = 0; i < 50; i++) insert.run(2000);
  const expected = serialized(dbPath);
  const image = captureDatabaseImage(replicator, dbPath);
  try {
    app.prepare("DELETE FROM t WHERE id > 5").run();
    app.exec("VACUUM"); // rewrites and shrinks the database
    // The image's read transaction keeps this checkpoint from backfilling anything it needs.
    app.pragma("wal_checkpoint(PASSIVE)");
    assert.ok(serialized(dbPath).length < expected.length);
    assert.ok((await readAll(image.pages())).equals(expected));
  } finally {
    image.release();
  }
});

test("with everything checkpointed and no WAL frames, the image is the file", async (t) => {
  const { dbPath, app, replicator, insert } = setUp(t);
  for (let i = 0; i < 20; i++) insert.run(700);
  app.pragma("wal_checkpoint(TRUNCATE)");
  const expected = serialized(dbPath);
  const image = captureDatabaseImage(replicator, dbPath);
  try {
    assert.equal(image.walHeader, null);
    assert.equal(image.walOffset, 0);
    assert.ok((await readAll(image.pages())).equals(expected));
  } finally {
    image.release();
  }
  assert.equal(replicator.inTransaction, false);
});
