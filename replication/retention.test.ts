import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FileReplicaClient } from "./replica/file/client.js";
import { restoreReplica } from "./restore.js";
import { planRetention } from "./retention.js";
import type { ReplicaObject } from "./replica/client.js";
import { dumpDatabase } from "../testkit/replication-db.js";
import { testDir } from "../testkit/scratch.js";
import { replicaKeys, startSession, waitFor } from "../testkit/replication-session.js";

const HOUR = 3_600_000;
const now = Date.parse("2026-01-02T12:00:00Z");
const old = "a".repeat(16);
const other = "b".repeat(16);
const current = "c".repeat(16);

function obj(key: string, hoursAgo: number): ReplicaObject {
  return { key, size: 1, lastModified: new Date(now - hoursAgo * HOUR) };
}
const snap = (g: string, i: number, h: number) => obj(`generations/${g}/snapshots/0000000${i}.snapshot.lz4`, h);
const wal = (g: string, i: number, o: number, h: number) => obj(`generations/${g}/wal/0000000${i}_0000000${o}.wal.lz4`, h);

test("plan: keep the newest snapshot older than the window and everything after it; drop old generations", () => {
  const objects = [
    snap(old, 0, 5), wal(old, 0, 0, 5), wal(old, 1, 0, 4),
    snap(other, 0, 6), wal(other, 0, 0, 6), wal(other, 1, 0, 4), snap(other, 2, 3), wal(other, 2, 0, 3), wal(other, 3, 0, 0.2),
    snap(current, 0, 3), wal(current, 0, 0, 3), wal(current, 0, 8, 2.5), wal(current, 1, 0, 2), snap(current, 2, 1.5),
    wal(current, 2, 0, 1.5), snap(current, 4, 0.5), wal(current, 3, 0, 1.2), wal(current, 4, 0, 0.5), wal(current, 5, 0, 0.1),
    obj("generations/not-a-generation/notes.txt", 9),
  ];
  assert.deepEqual(planRetention(objects, current, now, HOUR).sort(), [
    `generations/${old}/snapshots/00000000.snapshot.lz4`,
    `generations/${old}/wal/00000000_00000000.wal.lz4`,
    `generations/${old}/wal/00000001_00000000.wal.lz4`,
    `generations/${current}/snapshots/00000000.snapshot.lz4`,
    `generations/${current}/wal/00000000_00000000.wal.lz4`,
    `generations/${current}/wal/00000000_00000008.wal.lz4`,
    `generations/${current}/wal/00000001_00000000.wal.lz4`,
    `generations/${other}/snapshots/00000000.snapshot.lz4`,
    `generations/${other}/wal/00000000_00000000.wal.lz4`,
    `generations/${other}/wal/00000001_00000000.wal.lz4`,
  ].sort());
});

test("plan: nothing inside the window goes, and old generations stay while the current one has no snapshot", () => {
  assert.deepEqual(planRetention([snap(current, 0, 0.5), wal(current, 0, 0, 0.1)], current, now, HOUR), []);
  // The current generation's only snapshot is older than the window: it is the one kept.
  assert.deepEqual(planRetention([snap(current, 3, 30), wal(current, 3, 0, 29), wal(current, 4, 0, 28)], current, now, HOUR), []);
  assert.deepEqual(planRetention([snap(old, 0, 5), wal(old, 0, 0, 5), wal(current, 0, 0, 0.1)], current, now, HOUR), []);
});

function age(replicaDir: string, key: string, ms: number): void {
  const when = new Date(Date.now() - ms);
  fs.utimesSync(path.join(replicaDir, key), when, when);
}

test("the replicator enforces retention at start and then periodically after uploads (never while idle), and the replica still restores", async (t) => {
  const dir = testDir(t);
  const dbPath = path.join(dir, "store.db");
  const replicaDir = path.join(dir, "replica");
  const client = new FileReplicaClient(replicaDir);

  const first = await startSession(t, dbPath, client);
  first.run("INSERT INTO t (body) VALUES ('first generation')");
  await first.replication.waitUntilReplicated();
  const firstGeneration = first.replication.status().generation!;
  await first.stop();
  execFileSync("sqlite3", [dbPath, "INSERT INTO t (body) VALUES ('changed while stopped')"]); // forces a new generation
  for (const k of replicaKeys(replicaDir)) age(replicaDir, k.key, 2 * HOUR);

  const s = await startSession(t, dbPath, client, {
    config: { retentionMs: HOUR, snapshotIntervalMs: 60 },
    tuning: { checkpointThresholdPages: 6, retentionCheckIntervalMs: 100 },
  });
  await waitFor("the old generation to go", () => !replicaKeys(replicaDir).some((k) => k.generation === firstGeneration));

  for (let i = 0; i < 40; i++) {
    s.run("INSERT INTO t (body) VALUES (randomblob(1500))");
    await s.replication.waitUntilReplicated();
    if (i % 5 === 0) await sleep(70); // lets interval snapshots happen at several indexes
  }
  const snapshots = () => replicaKeys(replicaDir).filter((k) => k.kind === "snapshot").sort((a, b) => a.index - b.index);
  await waitFor("snapshots at three indexes", () => new Set(snapshots().map((k) => k.index)).size >= 3);
  // No write since: no further snapshot, whatever the interval says; and the retention
  // pass the last uploads called for has run (it finds nothing old enough yet).
  await sleep(300);
  const all = replicaKeys(replicaDir);
  const kept = snapshots().at(-2)!; // becomes the newest snapshot older than the window
  for (const k of all) if (k.index < kept.index || (k.kind === "snapshot" && k.index === kept.index)) age(replicaDir, k.key, 2 * HOUR);

  const expected = all.filter((k) => k.index >= kept.index).map((k) => k.key);
  // Retention runs only once something new was uploaded: an idle replica is left alone.
  await sleep(300);
  assert.deepEqual(replicaKeys(replicaDir).map((k) => k.key).sort(), all.map((k) => k.key).sort(), "no retention pass while idle");
  s.run("INSERT INTO t (body) VALUES ('after the idle spell')");
  await s.replication.waitUntilReplicated();
  await waitFor("retention to delete the objects before the kept snapshot", () => {
    const now = replicaKeys(replicaDir);
    return now.every((k) => k.index >= kept.index) && expected.every((key) => now.some((k) => k.key === key));
  });
  await s.replication.waitUntilReplicated();
  const restored = path.join(dir, "restored.db");
  await restoreReplica(client, { outputPath: restored });
  assert.equal(dumpDatabase(restored), dumpDatabase(dbPath));
  await s.stop();
});
