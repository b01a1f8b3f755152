// The replicator against a real S3 server (s3rver in a child process): outages, fail-closed
// start-up and request counts.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fingerprintDatabase } from "./sqlite/database-file.js";
import { prepareReplication, ReplicationTimeoutError } from "./index.js";
import { openReplicaClient } from "./replica/url.js";
import { restoreReplica } from "./restore.js";
import { CountingReplicaClient } from "../testkit/counting-client.js";
import { restoreLikeLitestream } from "../testkit/litestream-restore.js";
import { dumpDatabase } from "../testkit/replication-db.js";
import { testDir } from "../testkit/scratch.js";
import { startSession, testConfig, waitFor } from "../testkit/replication-session.js";
import { startS3rver } from "../testkit/s3rver.js";
import { useFileServer } from "../testkit/file-server.js";
import { testLogger } from "../testkit/test-logger.js";

const s3 = useFileServer(startS3rver);
let replicas = 0;

function newReplica() {
  const url = s3.url(`db-${++replicas}`);
  return { url, client: openReplicaClient(url, s3.env) };
}

test("an outage: writes go on locally, nothing is checkpointed past what was shipped, and replication catches up in the same generation", async (t) => {
  const dir = testDir(t);
  const dbPath = path.join(dir, "store.db");
  const { client } = newReplica();
  // The default sync timeout (not a short one): the waits before and after the outage must
  // not time out on a loaded machine; the one during it waits the timeout out.
  const s = await startSession(t, dbPath, client, {
    tuning: { checkpointThresholdPages: 8, maxRetryDelayMs: 200 },
  });
  for (let i = 0; i < 20; i++) s.run("INSERT INTO t (body) VALUES (randomblob(1500))");
  await s.replication.waitUntilReplicated();
  const before = s.replication.status();

  await s3.stop();
  try {
    // The first write may restart the WAL after the replicator's last checkpoint (everything
    // in it was shipped); from then on nothing may be checkpointed until the store is back.
    s.run("INSERT INTO t (body) VALUES (randomblob(1500))");
    const databaseBefore = await fingerprintDatabase(dbPath);
    const walHeaderBefore = fs.readFileSync(`${dbPath}-wal`).subarray(0, 32);
    for (let i = 0; i < 40; i++) s.run("INSERT INTO t (body) VALUES (randomblob(1500))"); // far past the checkpoint threshold
    await assert.rejects(s.replication.waitUntilReplicated(), ReplicationTimeoutError);
    await waitFor("replication to report the outage", () => !s.replication.status().healthy);
    await sleep(300);
    assert.deepEqual(await fingerprintDatabase(dbPath), databaseBefore, "the database file was not checkpointed into");
    assert.ok(fs.readFileSync(`${dbPath}-wal`).subarray(0, 32).equals(walHeaderBefore), "the WAL was not restarted");
    assert.equal(s.replication.status().lastError !== null, true);
  } finally {
    await s3.restart();
  }

  await s.replication.waitUntilReplicated();
  const after = s.replication.status();
  assert.equal(after.generation, before.generation);
  assert.equal(after.healthy, true);
  assert.ok(after.index > before.index || after.offset > before.offset);
  const restored = path.join(dir, "restored.db");
  await restoreReplica(client, { outputPath: restored });
  assert.equal(dumpDatabase(restored), dumpDatabase(dbPath));
  await s.stop();
  const manual = path.join(dir, "manual.db");
  await restoreLikeLitestream(client, manual);
  assert.ok(fs.readFileSync(manual).equals(fs.readFileSync(dbPath)));
});

test("idle on S3: no request once everything is shipped", async (t) => {
  const dbPath = path.join(testDir(t), "store.db");
  const counting = new CountingReplicaClient(newReplica().client);
  const s = await startSession(t, dbPath, counting);
  for (let i = 0; i < 5; i++) s.run("INSERT INTO t (body) VALUES ('x')");
  await s.replication.waitUntilReplicated();
  // The new generation lists the replica once (what is the newest object?), retention once.
  await waitFor("the start-up retention pass", () => counting.counts.list >= 2);
  await sleep(testConfig.syncIntervalMs * 2);
  const before = { ...counting.counts };
  await sleep(testConfig.syncIntervalMs * 10);
  assert.deepEqual(counting.counts, before);
  await s.stop();
});

test("fails closed on start: a missing database and an unreachable replica make prepareReplication throw", async (t) => {
  const dir = testDir(t);
  const dbPath = path.join(dir, "store.db");
  const { url, client } = newReplica();
  const s = await startSession(t, dbPath, client);
  s.run("INSERT INTO t (body) VALUES ('precious')");
  await s.replication.waitUntilReplicated();
  await s.stop();
  fs.rmSync(dbPath);

  const saved = { ...process.env };
  Object.assign(process.env, s3.env);
  t.after(() => {
    process.env = saved;
  });
  await s3.stop();
  try {
    await assert.rejects(prepareReplication(dbPath, { ...testConfig, replicaUrl: url }, testLogger()), (err: Error) => {
      assert.match(err.message, /^cannot restore .*store\.db from s3:\/\//);
      assert.ok(!err.message.includes("S3RVER"), "no credentials in the message");
      return true;
    });
    assert.equal(fs.existsSync(dbPath), false);
  } finally {
    await s3.restart();
  }
  const prepared = await prepareReplication(dbPath, { ...testConfig, replicaUrl: url }, testLogger());
  assert.equal(prepared.restored, true);
  assert.match(dumpDatabase(dbPath), /precious/);
});
