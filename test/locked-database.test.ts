// The database held locked by someone else (an operator's `sqlite3` shell left inside a
// write transaction, a backup tool): once SQLite's busy timeout (5 s) runs out, uploads get
// a clear 503 with Retry-After, reads keep working, nothing stored is damaged, and uploads
// work again once the lock is released.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { startTestApp } from "../testkit/app-server.js";

test("a database locked by another connection answers 503 with Retry-After, then works again", async () => {
  const app = await startTestApp();
  after(() => app.close());
  const kept = await fetch(`${app.url}/`, { method: "PUT", body: "stored before the lock" });
  assert.equal(kept.status, 200);
  const { id } = (await kept.json()) as { id: string };

  const other = new Database(app.dbPath);
  try {
    other.exec("BEGIN IMMEDIATE");
    const refused = await fetch(`${app.url}/`, { method: "PUT", body: "while locked" });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "30");
    assert.equal(await refused.text(), "can't save entry: the database cannot be written right now; try again later\n");
    const read = await fetch(`${app.url}/${id}`);
    assert.equal(await read.text(), "stored before the lock");
    other.exec("COMMIT");
  } finally {
    other.close();
  }

  const again = await fetch(`${app.url}/`, { method: "PUT", body: "after the lock was released" });
  assert.equal(again.status, 200, await again.clone().text());
  const check = new Database(app.dbPath, { readonly: true });
  try {
    assert.equal(check.pragma("integrity_check", { simple: true }), "ok");
  } finally {
    check.close();
  }
  const stored = app.store.get(((await again.json()) as { id: string }).id);
  assert.equal(stored?.contents.toString(), "after the lock was released");
});
