// A randomized workload (seeded: WORKLOAD_SEED=n reproduces a run) across clean restarts
// and kill -9 crashes of a child process running the app and its replicator: every
// restore is a state the primary went through, never older than what the replica
// acknowledged; after a clean stop it is the primary, byte for byte; and restoring each
// WAL index of the generation walks forward through the primary's states.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { FileReplicaClient } from "./replica/file/client.js";
import { findLatestGeneration, restoreReplica } from "./restore.js";
import { restoreLikeLitestream } from "../testkit/litestream-restore.js";
import { dumpDatabase } from "../testkit/replication-db.js";
import { testDir } from "../testkit/scratch.js";
import { replicaKeys, startSession } from "../testkit/replication-session.js";
import { contentHash, randomWrite, runWorkloadChild, seededRandom, workloadReplication, type WorkloadChildArgs } from "../testkit/workload.js";

/** This file runs as the child process too, with its arguments in this variable. */
const CHILD_ENV = "LITEPASTE_WORKLOAD_CHILD";

function hashOf(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return contentHash(db);
  } finally {
    db.close();
  }
}

/** Runs the workload in a child and kills it (SIGKILL) after `killAfter` commits; returns what it printed. */
async function crashingRun(dbPath: string, replicaDir: string, seed: number, killAfter: number) {
  const args: WorkloadChildArgs = { dbPath, replicaDir, seed, writes: 200 };
  // Without the test runner's variable, the child is a plain program and not a test process.
  const { NODE_TEST_CONTEXT: _runner, ...env } = process.env;
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
    env: { ...env, [CHILD_ENV]: JSON.stringify(args) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const states: string[] = [];
  let lastAcked = -1;
  let killed = false;
  for await (const line of createInterface({ input: child.stdout })) {
    const [word, hash] = line.split(" ");
    if (word === "commit") states.push(hash!);
    if (word === "acked") lastAcked = states.length - 1;
    if (!killed && states.length > killAfter) {
      killed = child.kill("SIGKILL");
    }
  }
  const [, signal] = await new Promise<[number | null, string | null]>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve([child.exitCode, child.signalCode]);
    else child.once("exit", (code, sig) => resolve([code, sig]));
  });
  assert.equal(signal, "SIGKILL", "the child was killed mid-run");
  return { states, lastAcked };
}

const childArgs = process.env[CHILD_ENV];
if (childArgs !== undefined) await runWorkloadChild(JSON.parse(childArgs) as WorkloadChildArgs);

test("randomized workload with clean restarts and kill -9: restores are states the primary committed", async (t) => {
  const seed = Number(process.env.WORKLOAD_SEED ?? 20261121);
  const random = seededRandom(seed);
  const dir = testDir(t);
  const dbPath = path.join(dir, "store.db");
  const replicaDir = path.join(dir, "replica");
  const client = new FileReplicaClient(replicaDir);
  const states: string[] = [];
  let acked = -1;
  const note = `WORKLOAD_SEED=${seed}`;

  for (const [n, kind] of ["clean", "crash", "clean", "clean", "crash", "crash", "clean"].entries()) {
    if (kind === "crash") {
      const before = states.length;
      const run = await crashingRun(dbPath, replicaDir, seed + n, 8 + Math.floor(random() * 30));
      states.push(...run.states);
      if (run.lastAcked >= 0) acked = before + run.lastAcked;
      const restored = path.join(dir, `crash-${n}.db`);
      await restoreReplica(client, { outputPath: restored });
      const at = states.lastIndexOf(hashOf(restored));
      assert.ok(at >= 0, `session ${n}: the replica restores to a state the primary never had (${note})`);
      assert.ok(at >= acked, `session ${n}: the replica lost acknowledged writes: state ${at} < ${acked} (${note})`);
      const manual = path.join(dir, `crash-${n}-manual.db`);
      await restoreLikeLitestream(client, manual);
      assert.equal(dumpDatabase(manual), dumpDatabase(restored), `session ${n} (${note})`);
      continue;
    }

    const s = await startSession(t, dbPath, client, workloadReplication);
    states.push(contentHash(s.app));
    for (let i = 0; i < 30; i++) {
      randomWrite(s.app, random);
      s.replication.notifyCommit();
      states.push(contentHash(s.app));
      if (random() < 0.25) await s.replication.waitUntilReplicated();
      else await sleep(Math.floor(random() * 6));
    }
    await s.stop();
    acked = states.length - 1;
    const restored = path.join(dir, `clean-${n}.db`);
    const manual = path.join(dir, `clean-${n}-manual.db`);
    await restoreReplica(client, { outputPath: restored });
    await restoreLikeLitestream(client, manual);
    const primary = fs.readFileSync(dbPath);
    assert.ok(fs.readFileSync(restored).equals(primary), `session ${n}: restore is the primary, byte for byte (${note})`);
    assert.ok(fs.readFileSync(manual).equals(primary), `session ${n}: Litestream's restore too (${note})`);
  }

  // Point in time by index, in the last generation: each index is a later state than the one before.
  const generation = (await findLatestGeneration(client))!;
  const indexes = [...new Set(replicaKeys(replicaDir).filter((k) => k.generation === generation && k.kind === "wal").map((k) => k.index))].sort((a, b) => a - b);
  assert.ok(indexes.length >= 2, `WAL indexes in the last generation: ${indexes.join(",")}`);
  let previous = -1;
  for (const index of indexes.slice(-6)) {
    const restored = path.join(dir, `index-${index}.db`);
    await restoreReplica(client, { outputPath: restored, generation, index });
    const at = states.indexOf(hashOf(restored), Math.max(previous, 0));
    assert.ok(at >= previous && at >= 0, `index ${index}: state ${at} after ${previous} (${note})`);
    previous = at;
  }
});
