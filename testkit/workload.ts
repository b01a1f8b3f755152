// A seeded, reproducible write workload for replication tests: small and large rows (the
// large ones span overflow pages), deletes, updates, multi-row transactions, VACUUM and
// page-count shrinks.

import { createHash } from "node:crypto";
import { writeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type Database from "better-sqlite3";
import { FileReplicaClient } from "../replication/replica/file/client.js";
import { prepareReplicator } from "../replication/startup.js";
import { openAppDatabase } from "./replication-db.js";
import { testConfig } from "./replication-session.js";
import { testLogger } from "./test-logger.js";

/** mulberry32: a small seeded PRNG, returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` (4 or more) random bytes. */
export function randomBytes(random: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += 4) out.writeUInt32LE((random() * 2 ** 32) >>> 0, Math.min(i, length - 4));
  return out;
}

export const WORKLOAD_SCHEMA = "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body BLOB)";

/** One write (one transaction, or a VACUUM); returns what it did, for messages. */
export function randomWrite(db: Database.Database, random: () => number): string {
  const r = random();
  const size = (min: number, max: number) => min + Math.floor(random() * (max - min));
  if (r < 0.4) {
    db.prepare("INSERT INTO t (body) VALUES (?)").run(randomBytes(random, size(8, 600)));
    return "insert";
  }
  if (r < 0.55) {
    db.prepare("INSERT INTO t (body) VALUES (?)").run(randomBytes(random, size(5000, 20000)));
    return "insert large";
  }
  if (r < 0.7) {
    db.prepare("DELETE FROM t WHERE id % ? = ?").run(size(3, 9), size(0, 3));
    return "delete";
  }
  if (r < 0.85) {
    db.prepare("UPDATE t SET body = ? WHERE id % ? = 0").run(randomBytes(random, size(8, 3000)), size(2, 6));
    return "update";
  }
  if (r < 0.93) {
    const insert = db.prepare("INSERT INTO t (body) VALUES (?)");
    db.transaction(() => {
      for (let i = 0; i < 10; i++) insert.run(randomBytes(random, size(100, 2000)));
    })();
    return "insert 10";
  }
  if (r < 0.97) {
    db.exec("VACUUM");
    return "vacuum";
  }
  db.exec("DELETE FROM t WHERE id > (SELECT max(id) FROM t) - 30");
  db.exec("VACUUM");
  return "shrink";
}

/** A digest of every row: equal digests, equal content. */
export function contentHash(db: Database.Database): string {
  const hash = createHash("sha256");
  for (const row of db.prepare("SELECT id, body FROM t ORDER BY id").raw().iterate() as Iterable<[number, Buffer | null]>) {
    hash.update(`${row[0]}:${row[1]?.length ?? -1}:`);
    if (row[1]) hash.update(row[1]);
  }
  return hash.digest("hex");
}

/** Replication settings for workload runs: short intervals, small rounds and segments, frequent snapshots. */
export const workloadReplication = {
  config: { syncIntervalMs: 20, snapshotIntervalMs: 250 },
  tuning: { checkpointThresholdPages: 24, minSnapshotTriggerBytes: 0, maxSegmentBytes: 64 * 1024 },
} as const;

export interface WorkloadChildArgs {
  readonly dbPath: string;
  readonly replicaDir: string;
  readonly seed: number;
  readonly writes: number;
}

/**
 * The app plus its replicator running the workload, in a process a test can kill -9 at
 * any moment. Prints (synchronously, so that a line is out before anything else happens)
 * "commit <content hash>" after every write and "acked" each time the replica confirmed
 * every write so far; exits when done.
 */
export async function runWorkloadChild({ dbPath, replicaDir, seed, writes }: WorkloadChildArgs): Promise<never> {
  const say = (line: string) => writeSync(1, `${line}\n`);
  const prepared = await prepareReplicator(dbPath, { ...testConfig, ...workloadReplication.config }, testLogger(), new FileReplicaClient(replicaDir), workloadReplication.tuning);
  const app = openAppDatabase(dbPath);
  app.exec(WORKLOAD_SCHEMA);
  const replication = prepared.start();
  const random = seededRandom(seed);
  say(`commit ${contentHash(app)}`);
  for (let i = 0; i < writes; i++) {
    randomWrite(app, random);
    replication.notifyCommit();
    say(`commit ${contentHash(app)}`);
    if (random() < 0.3) {
      await replication.waitUntilReplicated();
      say("acked");
    } else {
      await sleep(Math.floor(random() * 8));
    }
  }
  await replication.stop(() => app.close());
  say("stopped");
  process.exit(0);
}
