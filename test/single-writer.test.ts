// One writer per replica, through real `litepaste` processes: a second instance on the
// same replica path is detected (by the lease, or without conditional writes by the
// replica's newest generation), says so loudly (/healthz 503, an ERROR line naming the
// other generation) and uploads nothing; the replica stays the first writer's. Plus what
// /healthz answers during a store outage in each mode, and restarts that the lease must
// not slow down.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { FileReplicaClient } from "../replication/replica/file/client.js";
import { openReplicaClient } from "../replication/replica/url.js";
import { findLatestGeneration, restoreReplica, summarizeReplica } from "../replication/restore.js";
import type { ReplicaClient } from "../replication/replica/client.js";
import { serveCli, type ServedProcess } from "../testkit/litepaste-process.js";
import { dumpDatabase } from "../testkit/replication-db.js";
import { startS3rver, type S3rverHandle } from "../testkit/s3rver.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { HANG_TIMEOUT_MS } from "../testkit/wait.js";

const newDir = useScratchDirs("litepaste-single-writer");
let s3: S3rverHandle;
const running: ServedProcess[] = [];

before(async () => {
  s3 = await startS3rver();
});
after(async () => {
  for (const p of running) p.child.kill("SIGKILL");
  await s3.dispose();
});

interface Health {
  status: string;
  replication: { mode: string; generation: string | null; lastError: string | null; writerConflict: { generation: string | null; host: string | null } | null };
}

async function health(server: ServedProcess): Promise<{ code: number; body: Health }> {
  const res = await fetch(`${server.url}/healthz`);
  return { code: res.status, body: (await res.json()) as Health };
}

async function serve(env: NodeJS.ProcessEnv): Promise<ServedProcess> {
  const server = await serveCli({ DB_SYNC_INTERVAL: "100ms", ...env });
  running.push(server);
  return server;
}

async function put(server: ServedProcess, body: string): Promise<Response> {
  return fetch(`${server.url}/`, { method: "PUT", body });
}

/** Waits until the predicate holds for /healthz (polling; the bound only catches a hang). */
async function healthUntil(server: ServedProcess, what: string, predicate: (h: { code: number; body: Health }) => boolean, timeoutMs = HANG_TIMEOUT_MS) {
  let last: { code: number; body: Health } | undefined;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    last = await health(server);
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last /healthz: ${JSON.stringify(last)}\n${server.output()}`);
}

/** The process's log lines at `level` (pino: 40 warn, 50 error). */
function logLines(server: ServedProcess, level: number): Array<Record<string, unknown>> {
  return server.output().split("\n").flatMap((line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      return entry.level === level ? [entry] : [];
    } catch {
      return [];
    }
  });
}

async function generationsIn(client: ReplicaClient): Promise<string[]> {
  return (await summarizeReplica(client)).generations.map((g) => g.id);
}

/** Restores the replica to a new file and returns its dump. */
async function restoredDump(client: ReplicaClient): Promise<string> {
  const output = path.join(newDir("restore"), "store.db");
  await restoreReplica(client, { outputPath: output });
  return dumpDatabase(output);
}

test("a second server starting while the first holds a live lease uploads nothing, and says so; the first stays healthy and the replica stays its own", async () => {
  const replicaDir = newDir("replica");
  const client = new FileReplicaClient(replicaDir);
  // A TTL far longer than any renewal delay of a loaded machine: A's lease stays live throughout.
  const common = { DB_REPLICA_URL: `file://${replicaDir}`, DB_LEASE_TTL: "30s" };
  const dbA = path.join(newDir("a"), "store.db");
  const a = await serve({ ...common, DB_PATH: dbA });
  const { body: aHealth } = await healthUntil(a, "A's first generation", (h) => h.body.replication.generation !== null);
  const generationA = aHealth.replication.generation!;

  let writing = true;
  const writes = (async () => {
    for (let i = 0; writing && i < 400; i++) {
      assert.equal((await put(a, `A writes ${i}\n`)).status, 200);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    // B has a database of its own: on an empty disk it would wait for A's live lease
    // instead of starting (test/startup.test.ts), and there would be no second writer.
    const dbB = path.join(newDir("b"), "store.db");
    assert.equal(await (await serveCli({ DB_PATH: dbB })).stop(), 0);
    const b = await serve({ ...common, DB_PATH: dbB });
    const conflict = await healthUntil(b, "B's writer conflict", (h) => h.body.replication.writerConflict !== null);
    assert.equal(conflict.code, 503);
    assert.equal(conflict.body.status, "unhealthy");
    assert.equal(conflict.body.replication.writerConflict!.generation, generationA);
    assert.equal(conflict.body.replication.generation, null, "B started no generation");
    const errors = logLines(b, 50).filter((e) => /another writer/.test(String(e.msg)));
    assert.equal(errors.length, 1, b.output());
    assert.equal(errors[0]!.otherGeneration, generationA);
    // Async mode: B still accepts and serves pastes, locally only.
    const local = await put(b, "B's paste\n");
    assert.equal(local.status, 200);
    const { id } = (await local.json()) as { id: string };
    assert.equal(await (await fetch(`${b.url}/${id}`)).text(), "B's paste\n");
    assert.equal((await health(a)).code, 200);
    assert.equal(await b.stop(), 0, b.output());
  } finally {
    writing = false;
    await writes;
  }
  assert.deepEqual(await generationsIn(client), [generationA]);
  assert.equal(await a.stop(), 0, a.output());
  assert.equal(await restoredDump(client), dumpDatabase(dbA));
});

test("a server idle past the TTL loses the lease to a newcomer, and finds out at its next write: 503 and an ERROR naming the newcomer's generation", async () => {
  const replicaDir = newDir("replica");
  const client = new FileReplicaClient(replicaDir);
  const common = { DB_REPLICA_URL: `file://${replicaDir}`, DB_LEASE_TTL: "2s" };
  const a = await serve({ ...common, DB_PATH: path.join(newDir("a"), "store.db"), DB_SYNC_MODE: "sync" });
  assert.equal((await put(a, "before the takeover\n")).status, 200);
  await new Promise((r) => setTimeout(r, 2500)); // A idle past its lease

  const dbB = path.join(newDir("b"), "store.db");
  const b = await serve({ ...common, DB_PATH: dbB });
  const { body: bHealth } = await healthUntil(b, "B's generation", (h) => h.body.replication.generation !== null);
  const generationB = bHealth.replication.generation!;
  assert.match(b.output(), /restored the database from the replica/);

  const refused = await put(a, "after the takeover\n");
  assert.equal(refused.status, 503);
  assert.match(await refused.text(), /another server writes the same replica/);
  const { code, body } = await health(a);
  assert.equal(code, 503);
  assert.equal(body.replication.writerConflict!.generation, generationB);
  const errors = logLines(a, 50).filter((e) => /another writer/.test(String(e.msg)));
  assert.equal(errors.length, 1, a.output());
  assert.match(String(errors[0]!.err), new RegExp(generationB));
  assert.equal((await health(b)).code, 200);

  assert.equal(await a.stop(), 0, a.output());
  assert.equal(await b.stop(), 0, b.output());
  assert.equal(await findLatestGeneration(client), generationB);
  const restored = await restoredDump(client);
  assert.equal(restored, dumpDatabase(dbB));
  assert.doesNotMatch(restored, /after the takeover/);
});

test("without conditional writes (s3rver): 'lease unavailable' is logged, and a database whose generation is no longer the replica's newest is stopped at start", async () => {
  const url = s3.url("no-conditional");
  const client = openReplicaClient(url, s3.env);
  const common = { ...s3.env, DB_REPLICA_URL: url, DB_LEASE_TTL: "2s" };
  const dbB = path.join(newDir("b"), "store.db");
  const first = await serve({ ...common, DB_PATH: dbB });
  assert.equal((await put(first, "B's first life\n")).status, 200);
  const generationB = (await healthUntil(first, "B's generation", (h) => h.body.replication.generation !== null)).body.replication.generation!;
  assert.equal(await first.stop(), 0, first.output());
  const warnings = logLines(first, 40).filter((e) => /^lease unavailable/.test(String(e.msg)));
  assert.equal(warnings.length, 1, first.output());

  // Another instance, on a disk of its own, restores and writes a generation of its own.
  const a = await serve({ ...common, DB_PATH: path.join(newDir("a"), "store.db") });
  assert.equal((await put(a, "A's paste\n")).status, 200);
  const generationA = (await healthUntil(a, "A's generation", (h) => h.body.replication.generation !== null)).body.replication.generation!;
  assert.equal(await a.stop(), 0, a.output());
  const before = await summarizeReplica(client);

  // B comes back on its old disk: the replica moved on without it.
  const b = await serve({ ...common, DB_PATH: dbB });
  const conflict = await healthUntil(b, "B's writer conflict", (h) => h.body.replication.writerConflict !== null);
  assert.equal(conflict.code, 503);
  assert.equal(conflict.body.replication.writerConflict!.generation, generationA);
  const errors = logLines(b, 50).filter((e) => /another writer/.test(String(e.msg)));
  assert.equal(errors.length, 1, b.output());
  assert.equal(errors[0]!.otherGeneration, generationA);
  assert.match(String(errors[0]!.err), new RegExp(`${generationA}.*${generationB}`));
  assert.equal((await put(b, "B's second life\n")).status, 200, "async mode: still accepted locally");
  assert.equal(await b.stop(), 0, b.output());
  assert.deepEqual(await summarizeReplica(client), before, "B uploaded nothing");
});

test("/healthz during a store outage: 200 with lastError in async mode, 503 in sync mode", async () => {
  for (const mode of ["async", "sync"] as const) {
    const server = await serve({
      ...s3.env, DB_REPLICA_URL: s3.url(`outage-${mode}`), DB_PATH: path.join(newDir(mode), "store.db"),
      // Long enough for the upload before the outage on a loaded machine; the one during it waits it out.
      DB_SYNC_MODE: mode, DB_SYNC_TIMEOUT: "10s",
    });
    assert.equal((await put(server, "before the outage\n")).status, 200);
    await healthUntil(server, "the first generation", (h) => h.code === 200 && h.body.replication.generation !== null);
    await s3.stop();
    try {
      assert.equal((await put(server, "during the outage\n")).status, mode === "async" ? 200 : 503);
      const during = await healthUntil(server, "the outage in /healthz", (h) => h.body.replication.lastError !== null);
      assert.equal(during.code, mode === "async" ? 200 : 503);
      assert.equal(during.body.status, mode === "async" ? "ok" : "unhealthy");
      assert.equal(during.body.replication.writerConflict, null);
    } finally {
      await s3.restart();
    }
    await healthUntil(server, "recovery", (h) => h.code === 200 && h.body.replication.lastError === null);
    assert.equal(await server.stop(), 0, server.output());
  }
});

test("restarts on the same disk do not wait for the lease: after a clean stop and after kill -9", async () => {
  const replicaDir = newDir("replica");
  // An hour's TTL and sync mode: a restart that waited for the lease would not start, or
  // would answer 503 once the sync timeout (minutes: never missed by a slow machine) ends.
  const env = { DB_REPLICA_URL: `file://${replicaDir}`, DB_LEASE_TTL: "1h", DB_SYNC_MODE: "sync", DB_SYNC_TIMEOUT: "2m", DB_PATH: path.join(newDir("a"), "store.db") };
  const first = await serve(env);
  assert.equal((await put(first, "one\n")).status, 200);
  assert.equal(await first.stop(), 0, first.output());

  const second = await serve(env);
  assert.equal((await put(second, "two\n")).status, 200, second.output());
  second.child.kill("SIGKILL");
  await second.exited;

  const third = await serve(env);
  assert.equal((await put(third, "three\n")).status, 200, third.output());
  assert.equal((await health(third)).code, 200);
  assert.equal(logLines(third, 40).filter((e) => /waiting for it to expire/.test(String(e.msg))).length, 0);
  assert.equal(await third.stop(), 0, third.output());
  assert.ok(fs.existsSync(`${env.DB_PATH}.litepaste-writer`));
});
