import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FileReplicaClient } from "./replica/file/client.js";
import { ReplicationTimeoutError } from "./index.js";
import { positionPathOf } from "./writer/position.js";
import { restoreReplica } from "./restore.js";
import { prepareReplicator } from "./startup.js";
import { CountingReplicaClient } from "../testkit/counting-client.js";
import { restoreLikeLitestream } from "../testkit/litestream-restore.js";
import { dumpDatabase } from "../testkit/replication-db.js";
import { testDir } from "../testkit/scratch.js";
import { replicaKeys, startSession, testConfig, waitFor } from "../testkit/replication-session.js";
import { testLogger } from "../testkit/test-logger.js";

function setUp(t: { after(fn: () => void): void }) {
  const dir = testDir(t);
  const replicaDir = path.join(dir, "replica");
  return { dir, dbPath: path.join(dir, "store.db"), replicaDir, client: new FileReplicaClient(replicaDir) };
}

/** Restores the replica both ways (Litestream's algorithm by hand, and restoreReplica) and returns both files. */
async function restoreBothWays(client: FileReplicaClient, dir: string, name: string, target: { index?: number } = {}) {
  const manual = path.join(dir, `${name}-manual.db`);
  const ours = path.join(dir, `${name}-restored.db`);
  await restoreLikeLitestream(client, manual, target);
  await restoreReplica(client, { outputPath: ours, ...target });
  return { manual, ours };
}

test("what litepaste ships restores, by Litestream's algorithm and by restoreReplica, to the primary; byte for byte after a clean stop", async (t) => {
  const { dir, dbPath, replicaDir, client } = setUp(t);
  const s = await startSession(t, dbPath, client, { tuning: { checkpointThresholdPages: 12 } });
  for (let i = 0; i < 60; i++) {
    s.run("INSERT INTO t (body) VALUES (randomblob(?))", i % 7 === 0 ? 9000 : 200 + i);
    if (i % 9 === 0) s.run("DELETE FROM t WHERE id % 5 = ?", i % 5);
    if (i % 4 === 0) await s.replication.waitUntilReplicated();
  }
  await s.replication.waitUntilReplicated();
  const live = await restoreBothWays(client, dir, "live");
  assert.equal(dumpDatabase(live.manual), dumpDatabase(dbPath));
  assert.equal(dumpDatabase(live.ours), dumpDatabase(dbPath));
  // The checkpoints of the replicator moved the WAL through several rounds, shipped as indexes.
  const indexes = new Set(replicaKeys(replicaDir).filter((k) => k.kind === "wal").map((k) => k.index));
  assert.ok(indexes.size >= 3, `WAL indexes in the replica: ${[...indexes].join(",")}`);

  await s.stop();
  const stopped = await restoreBothWays(client, dir, "stopped");
  const primary = fs.readFileSync(dbPath);
  assert.ok(fs.readFileSync(stopped.manual).equals(primary));
  assert.ok(fs.readFileSync(stopped.ours).equals(primary));
});

test("a clean restart continues the same generation at the next index, with no new snapshot", async (t) => {
  const { dir, dbPath, replicaDir, client } = setUp(t);
  const first = await startSession(t, dbPath, client);
  for (let i = 0; i < 10; i++) first.run("INSERT INTO t (body) VALUES (randomblob(300))");
  await first.replication.waitUntilReplicated();
  const generation = first.replication.status().generation;
  const lastIndex = first.replication.status().index;
  await first.stop();
  assert.ok(fs.existsSync(positionPathOf(dbPath)));

  const counting = new CountingReplicaClient(client);
  const second = await startSession(t, dbPath, counting);
  assert.equal(fs.existsSync(positionPathOf(dbPath)), false, "the record is consumed at start");
  for (let i = 0; i < 10; i++) second.run("INSERT INTO t (body) VALUES (randomblob(300))");
  await second.replication.waitUntilReplicated();
  assert.equal(second.replication.status().generation, generation);
  assert.equal(second.replication.status().index, lastIndex + 1);
  assert.equal(counting.counts.putStream, 0);
  const keys = replicaKeys(replicaDir);
  assert.deepEqual(keys.filter((k) => k.kind === "snapshot").map((k) => [k.generation, k.index]), [[generation, 0]]);
  assert.ok(keys.some((k) => k.kind === "wal" && k.index === lastIndex + 1 && k.offset === 0));
  await second.stop();

  const restored = await restoreBothWays(client, dir, "after");
  assert.ok(fs.readFileSync(restored.manual).equals(fs.readFileSync(dbPath)));
  assert.ok(fs.readFileSync(restored.ours).equals(fs.readFileSync(dbPath)));
});

test("a database changed while litepaste was stopped starts a new generation", async (t) => {
  const { dir, dbPath, replicaDir, client } = setUp(t);
  const first = await startSession(t, dbPath, client);
  first.run("INSERT INTO t (body) VALUES ('before')");
  await first.replication.waitUntilReplicated();
  await first.stop();
  execFileSync("sqlite3", [dbPath, "INSERT INTO t (body) VALUES ('behind our back')"]);

  const second = await startSession(t, dbPath, client);
  await second.replication.waitUntilReplicated();
  await waitFor("a new generation", () => second.replication.status().generation !== null);
  const generations = new Set(replicaKeys(replicaDir).map((k) => k.generation));
  assert.equal(generations.size, 2);
  // Object stores keep whole seconds, and restore takes the generation with the newest
  // object: the new generation's snapshot must be in a later second than the old one's objects.
  const secondOf = (k: { key: string }) => Math.floor(fs.statSync(path.join(replicaDir, k.key)).mtimeMs / 1000);
  const current = second.replication.status().generation;
  const oldNewest = Math.max(...replicaKeys(replicaDir).filter((k) => k.generation !== current).map(secondOf));
  assert.ok(replicaKeys(replicaDir).filter((k) => k.generation === current).every((k) => secondOf(k) > oldNewest));
  await second.stop();
  const restored = await restoreBothWays(client, dir, "after");
  assert.equal(dumpDatabase(restored.manual), dumpDatabase(dbPath));
  assert.match(dumpDatabase(restored.ours), /behind our back/);
});

test("another process checkpointing and restarting the WAL behind the replicator's back starts a new generation", async (t) => {
  const { dir, dbPath, replicaDir, client } = setUp(t);
  const s = await startSession(t, dbPath, client);
  for (let i = 0; i < 5; i++) s.run("INSERT INTO t (body) VALUES (randomblob(500))");
  await s.replication.waitUntilReplicated();
  const before = s.replication.status().generation;

  assert.equal(execFileSync("sqlite3", [dbPath, "PRAGMA wal_checkpoint(TRUNCATE)"]).toString().trim().split("|")[0], "0");
  execFileSync("sqlite3", [dbPath, "INSERT INTO t (body) VALUES ('from the sqlite3 shell')"]);
  s.run("INSERT INTO t (body) VALUES ('from the app')");
  await waitFor("a new generation", () => {
    const { generation } = s.replication.status();
    return generation !== null && generation !== before;
  });
  await s.replication.waitUntilReplicated();
  assert.equal(new Set(replicaKeys(replicaDir).map((k) => k.generation)).size, 2);
  const live = await restoreBothWays(client, dir, "live");
  assert.equal(dumpDatabase(live.manual), dumpDatabase(dbPath));
  assert.equal(dumpDatabase(live.ours), dumpDatabase(dbPath));
  await s.stop();
});

test("idle: once everything is shipped, the replica sees no request at all", async (t) => {
  const { dbPath, client } = setUp(t);
  const counting = new CountingReplicaClient(client);
  const s = await startSession(t, dbPath, counting);
  for (let i = 0; i < 5; i++) s.run("INSERT INTO t (body) VALUES (randomblob(100))");
  await s.replication.waitUntilReplicated();
  // The new generation lists the replica once (what is the newest object?), retention once.
  await waitFor("the start-up retention pass", () => counting.counts.list >= 2);
  await sleep(testConfig.syncIntervalMs); // lets that pass finish
  const before = { ...counting.counts };
  await sleep(testConfig.syncIntervalMs * 10);
  assert.deepEqual(counting.counts, before);
  s.run("INSERT INTO t (body) VALUES ('one more')");
  await waitFor("one upload", () => counting.counts.put === before.put + 1);
  await sleep(testConfig.syncIntervalMs * 5);
  assert.deepEqual(counting.counts, { ...before, put: before.put + 1 });
  await s.stop();
});

test("sync mode: concurrent writers share uploads (group commit)", async (t) => {
  const { dir, dbPath, client } = setUp(t);
  const counting = new CountingReplicaClient(client);
  const s = await startSession(t, dbPath, counting, { config: { syncMode: "sync" } });
  await s.replication.waitUntilReplicated();
  const puts = counting.counts.put;
  const acks = [];
  for (let i = 0; i < 20; i++) {
    s.run("INSERT INTO t (body) VALUES (?)", `write ${i}`);
    acks.push(s.replication.waitUntilReplicated());
  }
  await Promise.all(acks);
  assert.ok(counting.counts.put - puts <= 2, `${counting.counts.put - puts} uploads for 20 writes`);
  const restored = path.join(dir, "r.db");
  await restoreReplica(client, { outputPath: restored });
  assert.equal(dumpDatabase(restored), dumpDatabase(dbPath));
  await s.stop();
});

test("point in time: by index and by timestamp, restore gives the earlier states", async (t) => {
  const { dir, dbPath, client } = setUp(t);
  const s = await startSession(t, dbPath, client, { tuning: { checkpointThresholdPages: 8 } });
  const byIndex = new Map<number, string>();
  const byTime: Array<{ at: Date; dump: string }> = [];
  for (let i = 0; i < 40; i++) {
    s.run("INSERT INTO t (body) VALUES (randomblob(?))", 1000 + i * 10);
    await s.replication.waitUntilReplicated();
    const dump = dumpDatabase(dbPath);
    byIndex.set(s.replication.status().index, dump); // the last state shipped into each index
    if (i % 8 === 0) {
      byTime.push({ at: new Date(), dump });
      await sleep(30);
    }
  }
  const indexes = [...byIndex.keys()].sort((a, b) => a - b);
  assert.ok(indexes.length >= 3, `indexes: ${indexes.join(",")}`);
  for (const index of indexes.slice(0, -1)) {
    const restored = await restoreBothWays(client, dir, `index-${index}`, { index });
    assert.equal(dumpDatabase(restored.manual), byIndex.get(index), `index ${index} by hand`);
    assert.equal(dumpDatabase(restored.ours), byIndex.get(index), `index ${index}`);
  }
  for (const [n, { at, dump }] of byTime.entries()) {
    const restored = path.join(dir, `time-${n}.db`);
    await restoreReplica(client, { outputPath: restored, timestamp: at });
    assert.equal(dumpDatabase(restored), dump, `as of ${at.toISOString()}`);
  }
  await s.stop();
});

test("a missing database is restored before the app opens it; replication then starts a new generation", async (t) => {
  const { dbPath, replicaDir, client } = setUp(t);
  const first = await startSession(t, dbPath, client);
  for (let i = 0; i < 8; i++) first.run("INSERT INTO t (body) VALUES (randomblob(2000))");
  await first.replication.waitUntilReplicated();
  const original = dumpDatabase(dbPath);
  const generation = first.replication.status().generation;
  await first.stop();
  fs.rmSync(dbPath);

  const second = await startSession(t, dbPath, client);
  assert.equal(second.restored, true);
  assert.equal(dumpDatabase(dbPath), original);
  second.run("INSERT INTO t (body) VALUES ('after the restore')");
  await second.replication.waitUntilReplicated();
  assert.notEqual(second.replication.status().generation, generation);
  await second.stop();
  assert.equal(new Set(replicaKeys(replicaDir).map((k) => k.generation)).size, 2);
});

test("fails closed: a missing database and a replica that cannot be read is an error, not an empty start", async (t) => {
  const { dbPath, replicaDir, client } = setUp(t);
  const first = await startSession(t, dbPath, client);
  first.run("INSERT INTO t (body) VALUES ('precious')");
  await first.replication.waitUntilReplicated();
  await first.stop();
  fs.rmSync(dbPath);
  const snapshot = replicaKeys(replicaDir).find((k) => k.kind === "snapshot")!;
  fs.writeFileSync(path.join(replicaDir, snapshot.key), "not an lz4 frame");

  await assert.rejects(prepareReplicator(dbPath, testConfig, testLogger(), client), (err: Error) => {
    assert.match(err.message, new RegExp(`cannot restore ${dbPath.replace(/[.]/g, "\\.")} from file://`));
    assert.match(err.message, new RegExp(snapshot.key));
    return true;
  });
  assert.equal(fs.existsSync(dbPath), false);
});

test("snapshots: by interval and when the WAL shipped outgrows the database, in the same generation", async (t) => {
  const { dir, dbPath, replicaDir, client } = setUp(t);
  const byInterval = await startSession(t, dbPath, client, { config: { snapshotIntervalMs: 150 }, tuning: { checkpointThresholdPages: 10 } });
  const early: Array<{ at: Date; dump: string }> = [];
  for (let i = 0; i < 30; i++) {
    byInterval.run("INSERT INTO t (body) VALUES (randomblob(600))");
    if (i < 3) {
      await byInterval.replication.waitUntilReplicated();
      early.push({ at: new Date(), dump: dumpDatabase(dbPath) });
    }
    await sleep(15);
  }
  await waitFor("two snapshots", () => replicaKeys(replicaDir).filter((k) => k.kind === "snapshot").length >= 2);
  await byInterval.replication.waitUntilReplicated();
  assert.equal(new Set(replicaKeys(replicaDir).map((k) => k.generation)).size, 1);
  let restored = await restoreBothWays(client, dir, "interval");
  assert.equal(dumpDatabase(restored.manual), dumpDatabase(dbPath));
  assert.equal(dumpDatabase(restored.ours), dumpDatabase(dbPath));
  // Later snapshots never replace an earlier one: the first moments still restore.
  for (const [n, { at, dump }] of early.entries()) {
    const file = path.join(dir, `early-${n}.db`);
    await restoreReplica(client, { outputPath: file, timestamp: at });
    assert.equal(dumpDatabase(file), dump);
  }
  await byInterval.stop();

  const bySize = await startSession(t, dbPath, client, { tuning: { minSnapshotTriggerBytes: 0 } });
  const snapshots = () => replicaKeys(replicaDir).filter((k) => k.kind === "snapshot").length;
  const before = snapshots();
  for (let i = 0; i < 40 && snapshots() === before; i++) {
    bySize.run("UPDATE t SET body = randomblob(700)"); // rewrites the whole table: WAL ≈ database size
    await bySize.replication.waitUntilReplicated();
    await sleep(testConfig.syncIntervalMs);
  }
  assert.ok(snapshots() > before);
  await bySize.replication.waitUntilReplicated();
  restored = await restoreBothWays(client, dir, "size");
  assert.equal(dumpDatabase(restored.manual), dumpDatabase(dbPath));
  assert.equal(dumpDatabase(restored.ours), dumpDatabase(dbPath));
  await bySize.stop();
});

test("waitUntilReplicated rejects with ReplicationTimeoutError when the replica cannot take the write", async (t) => {
  const { dir, dbPath } = setUp(t);
  // A replica "directory" that is a file: every write to it fails, for real.
  const blocked = path.join(dir, "not-a-directory");
  fs.writeFileSync(blocked, "");
  const s = await startSession(t, dbPath, new FileReplicaClient(blocked), { config: { syncMode: "sync", syncTimeoutMs: 300 } });
  s.run("INSERT INTO t (body) VALUES ('stuck')");
  await assert.rejects(s.replication.waitUntilReplicated(), ReplicationTimeoutError);
  const status = s.replication.status();
  assert.equal(status.healthy, false);
  assert.match(status.lastError ?? "", /not-a-directory/);
  await s.stop();
  assert.equal(fs.existsSync(positionPathOf(dbPath)), false);
});

test("stopping at once, while the first snapshot is still in flight, still ships every write", async (t) => {
  const { dir, dbPath, client } = setUp(t);
  const s = await startSession(t, dbPath, client);
  s.run("INSERT INTO t (body) VALUES (randomblob(100000))");
  s.run("INSERT INTO t (body) VALUES ('last words')");
  await s.stop();
  assert.notEqual(s.replication.status().generation, null);
  assert.ok(fs.existsSync(positionPathOf(dbPath)));
  assert.equal(fs.existsSync(`${dbPath}-wal`), false, "the app's close was the last one: it removed -wal");
  const restored = path.join(dir, "restored.db");
  await restoreReplica(client, { outputPath: restored });
  assert.ok(fs.readFileSync(restored).equals(fs.readFileSync(dbPath)));
});

test("an empty database file (say, from touch) is restored over, never replicated over the replica's data", async (t) => {
  const { dbPath, client } = setUp(t);
  const first = await startSession(t, dbPath, client);
  first.run("INSERT INTO t (body) VALUES ('keep me')");
  await first.replication.waitUntilReplicated();
  await first.stop();
  fs.writeFileSync(dbPath, "");

  const prepared = await prepareReplicator(dbPath, testConfig, testLogger(), client);
  assert.equal(prepared.restored, true);
  assert.match(dumpDatabase(dbPath), /keep me/);
});

test("after an outage, the WAL it grew is truncated once everything is shipped, in the same generation", async (t) => {
  const { dir, dbPath, replicaDir, client } = setUp(t);
  const truncateWalBytes = 256 * 1024;
  const s = await startSession(t, dbPath, client, { tuning: { checkpointThresholdPages: 8, truncateWalBytes, maxRetryDelayMs: 100 } });
  const walSize = () => fs.statSync(`${dbPath}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  for (let i = 0; i < 20; i++) s.run("INSERT INTO t (body) VALUES (randomblob(1500))");
  await s.replication.waitUntilReplicated();
  const { generation } = s.replication.status();
  assert.equal(s.replication.metrics().checkpoints.truncate, 0, "a small WAL is only checkpointed PASSIVE");
  assert.ok(s.replication.metrics().checkpoints.passive > 0);

  // The outage: the replica directory is moved away and a file takes its place.
  fs.renameSync(replicaDir, `${replicaDir}.away`);
  fs.writeFileSync(replicaDir, "");
  for (let i = 0; i < 400; i++) s.run("INSERT INTO t (body) VALUES (randomblob(3000))"); // more WAL than the database: a snapshot is due
  await waitFor("replication to report the outage", () => !s.replication.status().healthy);
  const grown = walSize();
  assert.ok(grown > 2 * truncateWalBytes, `-wal is ${grown} bytes`);
  assert.equal(s.replication.metrics().walBytes, grown);

  fs.rmSync(replicaDir);
  fs.renameSync(`${replicaDir}.away`, replicaDir);
  await s.replication.waitUntilReplicated();
  await waitFor("a TRUNCATE checkpoint", () => s.replication.metrics().checkpoints.truncate > 0);
  assert.equal(walSize(), 0);
  // The snapshot that the outage's WAL made due is taken from the truncated WAL, without waiting for a write.
  const { index } = s.replication.status();
  await waitFor("a snapshot of the truncated round", () => replicaKeys(replicaDir).some((k) => k.kind === "snapshot" && k.index === index));
  assert.equal(walSize(), 0);
  s.run("INSERT INTO t (body) VALUES ('after the truncation')");
  await s.replication.waitUntilReplicated();
  assert.ok(walSize() < truncateWalBytes, `-wal is ${walSize()} bytes`);
  assert.equal(s.replication.status().generation, generation);
  assert.equal(new Set(replicaKeys(replicaDir).map((k) => k.generation)).size, 1);
  const restored = await restoreBothWays(client, dir, "truncated");
  assert.equal(dumpDatabase(restored.manual), dumpDatabase(dbPath));
  assert.equal(dumpDatabase(restored.ours), dumpDatabase(dbPath));
  await s.stop();
});
