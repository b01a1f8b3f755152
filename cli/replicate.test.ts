import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { FileReplicaClient } from "../replication/replica/file/client.js";
import { restoreReplica } from "../replication/restore.js";
import { runCommand } from "./command.js";
import { replicateCommand } from "./replicate.js";
import { restoreLikeLitestream } from "../testkit/litestream-restore.js";
import { dumpDatabase } from "../testkit/replication-db.js";
import { CLI as litepaste } from "../testkit/litepaste-process.js";
import { testDir } from "../testkit/scratch.js";
import { replicaKeys, waitFor } from "../testkit/replication-session.js";

function collector() {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return { stream, text: () => text };
}

async function run(args: string[]) {
  const stdout = collector();
  const stderr = collector();
  const code = await runCommand("replicate", replicateCommand, args, { stdout: stdout.stream, stderr: stderr.stream, isTTY: false, env: {} });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

test("replicate: -h prints usage; bad arguments exit 2 and say what is wrong; a missing database exits 1", async (t) => {
  const help = await run(["-h"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: litepaste replicate \[flags\] DB_PATH URL/);
  assert.match(help.stdout, /-sync-interval DURATION/);

  const none = await run([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /expected DB_PATH and URL, got 0 argument/);
  const badDuration = await run(["-sync-interval", "soon", "db", "file:///tmp/x"]);
  assert.equal(badDuration.code, 2);
  // The one flag parser's and the one settings table's messages (this command's own parser said
  // `-sync-interval: invalid duration "soon"` and `unknown flag -fast`).
  assert.match(badDuration.stderr, /invalid value "soon" for -sync-interval: expected a duration/);
  const unknown = await run(["-fast", "db", "file:///tmp/x"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /flag provided but not defined: -fast/);
  // The server's minimums: DB_SYNC_INTERVAL=1ns is refused, and so is -sync-interval 1ns.
  const tooShort = await run(["-sync-interval", "1ns", "db", "file:///tmp/x"]);
  assert.equal(tooShort.code, 2);
  assert.match(tooShort.stderr, /invalid value "1ns" for -sync-interval: expected a duration of 10ms or more/);
  const tooShortLease = await run(["-lease-ttl=500ms", "db", "file:///tmp/x"]);
  assert.equal(tooShortLease.code, 2);
  assert.match(tooShortLease.stderr, /invalid value "500ms" for -lease-ttl: expected a duration of 1s or more/);
  const flagsAfter = await run(["db", "file:///tmp/x", "-sync-interval", "1s"]);
  assert.equal(flagsAfter.code, 2);
  assert.match(flagsAfter.stderr, /got 4 argument\(s\) \(flags go before DB_PATH\)/);

  const missing = path.join(testDir(t), "nope.db");
  const absent = await run([missing, "file:///tmp/x"]);
  assert.equal(absent.code, 1);
  assert.match(absent.stderr, /nope\.db does not exist/);
});

test("litepaste replicate: follows a database another process writes and checkpoints, and flushes on SIGTERM", async (t) => {
  const dir = testDir(t);
  const dbPath = path.join(dir, "app.db");
  const replicaDir = path.join(dir, "replica");
  // The other program: SQLite's defaults, except a small autocheckpoint so that it checkpoints often.
  const writer = new Database(dbPath);
  t.after(() => writer.close());
  writer.pragma("journal_mode = WAL");
  writer.pragma("busy_timeout = 5000");
  writer.pragma("wal_autocheckpoint = 20");
  writer.exec("CREATE TABLE log (id INTEGER PRIMARY KEY, line BLOB)");
  const insert = writer.prepare("INSERT INTO log (line) VALUES (randomblob(?))");
  for (let i = 0; i < 30; i++) insert.run(1000);
  // Everything backfilled: the replicator's first read transaction reads the file alone,
  // which lets the next write restart the WAL at once; that must not cost a generation.
  const [full] = writer.pragma("wal_checkpoint(PASSIVE)") as Array<{ log: number; checkpointed: number }>;
  assert.equal(full!.log, full!.checkpointed);

  const child = spawn(process.execPath, [litepaste, "replicate", "-sync-interval", "30ms", dbPath, pathToFileURL(replicaDir).href], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  await waitFor("the first snapshot", () => replicaKeys(replicaDir).some((k) => k.kind === "snapshot"));

  for (let i = 0; i < 200; i++) {
    insert.run(500 + (i % 10) * 300);
    if (i % 20 === 0) writer.prepare("DELETE FROM log WHERE id % 7 = ?").run(i % 7);
    if (i === 100) execFileSync("sqlite3", [dbPath, "PRAGMA wal_checkpoint(TRUNCATE)"]);
    if (i % 10 === 0) await sleep(15);
  }
  const expected = dumpDatabase(dbPath);
  child.kill("SIGTERM");
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 0, log);
  assert.match(log, /everything was replicated/);
  // Its read transaction kept the writer's checkpoints, and the sqlite3 shell's TRUNCATE,
  // from restarting the WAL behind its back: one generation throughout.
  assert.equal(new Set(replicaKeys(replicaDir).map((k) => k.generation)).size, 1, log);

  const client = new FileReplicaClient(replicaDir);
  const manual = path.join(dir, "manual.db");
  await restoreLikeLitestream(client, manual);
  assert.equal(dumpDatabase(manual), expected);
  const restored = path.join(dir, "restored.db");
  await restoreReplica(client, { outputPath: restored });
  assert.equal(dumpDatabase(restored), expected);
});

test("litepaste replicate: a second replicator on the same replica finds the first one's lease, uploads nothing and exits 1", async (t) => {
  const dir = testDir(t);
  const replicaUrl = pathToFileURL(path.join(dir, "replica")).href;
  const start = (name: string) => {
    const dbPath = path.join(dir, `${name}.db`);
    const db = new Database(dbPath);
    t.after(() => db.close());
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE log (id INTEGER PRIMARY KEY, line TEXT)");
    const child = spawn(process.execPath, [litepaste, "replicate", "-sync-interval", "50ms", "-lease-ttl", "2s", dbPath, replicaUrl], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
    t.after(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    return { db, child, log: () => log };
  };
  const first = start("first");
  await waitFor("the first snapshot", () => replicaKeys(path.join(dir, "replica")).some((k) => k.kind === "snapshot"));
  const second = start("second");
  // The first keeps writing, so it keeps renewing its lease while the second waits for it.
  for (let i = 0; i < 400 && !/replication stopped/.test(second.log()); i++) {
    first.db.prepare("INSERT INTO log (line) VALUES (?)").run(`line ${i}`);
    await sleep(25);
  }
  assert.match(second.log(), /"level":50.*replication stopped: another writer uses this replica/);
  second.child.kill("SIGTERM");
  assert.equal(((await once(second.child, "exit")) as [number | null])[0], 1, second.log());
  first.child.kill("SIGTERM");
  assert.equal(((await once(first.child, "exit")) as [number | null])[0], 0, first.log());
  assert.equal(new Set(replicaKeys(path.join(dir, "replica")).map((k) => k.generation)).size, 1);
  const restored = path.join(dir, "restored.db");
  await restoreReplica(new FileReplicaClient(path.join(dir, "replica")), { outputPath: restored });
  assert.equal(dumpDatabase(restored), dumpDatabase(path.join(dir, "first.db")));
});
