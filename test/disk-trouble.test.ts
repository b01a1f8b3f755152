// A full disk under the database: uploads get a clear 507, reads keep working, nothing
// stored is damaged, and uploads work again once space is freed. Uses a real 2 MiB
// tmpfs (the tests run as root, as CI does).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { startTestApp, type TestApp } from "../testkit/app-server.js";
import { freshDir } from "../testkit/scratch.js";

let mountPoint: string;
let app: TestApp;

before(() => {
  mountPoint = freshDir("litepaste-full");
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint]);
});

after(async () => {
  await app?.close().catch(() => {});
  execFileSync("umount", [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

test("a full disk answers 507 with a clear message, keeps reads working and corrupts nothing", async () => {
  app = await startTestApp({}, path.join(mountPoint, "store.db"));
  const kept = await fetch(`${app.url}/`, { method: "PUT", body: "stored before the disk filled" });
  const { id } = (await kept.json()) as { id: string };

  // Fill the rest of the filesystem with another file, as a runaway log would.
  const filler = path.join(mountPoint, "filler");
  let size = 2 * 1024 * 1024;
  while (size > 4096) {
    try {
      writeFileSync(filler, Buffer.alloc(size), { flag: "a" });
    } catch {
      size = Math.floor(size / 2);
    }
  }

  let full: Response | undefined;
  for (let i = 0; i < 50 && full?.status !== 507; i++) {
    full = await fetch(`${app.url}/`, { method: "PUT", body: Buffer.alloc(64 * 1024, "z") });
  }
  assert.equal(full!.status, 507);
  assert.equal(await full!.text(), "can't save entry: the server's disk is full\n");

  const read = await fetch(`${app.url}/${id}`);
  assert.equal(read.status, 200);
  assert.equal(await read.text(), "stored before the disk filled");

  rmSync(filler);
  const after = await fetch(`${app.url}/`, { method: "PUT", body: "after space was freed" });
  assert.equal(after.status, 200);

  await app.close();
  const db = new Database(path.join(mountPoint, "store.db"), { readonly: true });
  assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
  const contents = db.prepare("SELECT contents FROM entries ORDER BY rowid").pluck().all() as string[];
  db.close();
  assert.ok(contents.includes("stored before the disk filled"));
  assert.ok(contents.includes("after space was freed"));
});
