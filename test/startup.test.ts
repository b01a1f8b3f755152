// Start-up that fits a platform's boot limit, through real `litepaste` processes and a
// real s3rver behind a proxy that holds requests back (so that a restore or an upload is
// in flight for as long as the test looks, whatever the machine's speed): the port answers
// at once, every request gets 503 while the restore runs or while another writer still
// holds the lease, nothing sent meanwhile is stored, and then the data is there. An old and
// a new instance overlapping on one replica lose nothing the old one acknowledged, and the
// replica keeps one history.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { openReplicaClient } from "../replication/replica/url.js";
import { summarizeReplica } from "../replication/restore.js";
import { serveCli, type ServedProcess } from "../testkit/litepaste-process.js";
import { upload } from "../testkit/paste-client.js";
import { comparePastes, restoreToEmptyDir } from "../testkit/replica-check.js";
import { startS3GateProxy, type S3GateProxy } from "../testkit/s3-gate-proxy.js";
import { startS3rver, type S3rverHandle } from "../testkit/s3rver.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { until } from "../testkit/wait.js";

const newDir = useScratchDirs("litepaste-startup");
let s3: S3rverHandle;
let proxy: S3GateProxy;
const running: ServedProcess[] = [];

before(async () => {
  s3 = await startS3rver();
  proxy = await startS3GateProxy(s3.endpoint);
});
after(async () => {
  proxy.release();
  for (const p of running) p.child.kill("SIGKILL");
  await proxy.close();
  await s3.dispose();
});

interface StartupHealth {
  readonly code: number;
  readonly retryAfter: string | null;
  readonly body: { status: string; message?: string; lease?: { host: string; expiresAt: string } | null; progress?: { bytes: number; segments: number; totalSegments: number } };
}

async function healthz(server: ServedProcess): Promise<StartupHealth> {
  const res = await fetch(`${server.url}/healthz`);
  return { code: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as StartupHealth["body"] };
}

function healthUntil(server: ServedProcess, what: string, accept: (h: StartupHealth) => boolean): Promise<StartupHealth> {
  let last: StartupHealth | undefined;
  return until(what, async () => {
    last = await healthz(server);
    return accept(last) && last;
  }, { pollMs: 20, detail: () => `last /healthz: ${JSON.stringify(last)}\n${server.output().split("\n").slice(-20).join("\n")}` });
}

async function serve(dir: string, replicaUrl: string, ready: "answers" | "listening" = "answers"): Promise<ServedProcess> {
  const server = await serveCli({ DB_PATH: path.join(dir, "store.db"), DB_REPLICA_URL: replicaUrl, DB_SYNC_INTERVAL: "100ms", ...s3.env }, { ready });
  running.push(server);
  return server;
}

const MARKER = "sent-while-starting";

/** While the server is not ready: uploads, reads of known pastes and the home page all get 503 with Retry-After. */
async function assertRefusesEverything(server: ServedProcess, knownIds: readonly string[]): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const answer = await upload(server.url, Buffer.from(`${MARKER} ${i}`));
    assert.equal(answer.status, 503, `PUT during the start-up: ${answer.status} ${answer.text}`);
    assert.equal(answer.text, "restoring the database from the replica; try again in a moment\n");
    assert.ok(answer.retryAfter, "Retry-After on the 503");
  }
  const form = new FormData();
  form.set("_", `${MARKER} form`);
  assert.equal((await fetch(`${server.url}/`, { method: "POST", body: form })).status, 503);
  for (const id of knownIds.slice(0, 3)) assert.equal((await fetch(`${server.url}/${id}`)).status, 503, "reads wait for the store too");
  assert.equal((await fetch(`${server.url}/`)).status, 503);
}

/** Every row of the database file at `dbPath`, and that none holds what was sent during the start-up. */
function assertNothingFromTheStartup(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT CAST(contents AS BLOB) AS contents FROM entries").all() as { contents: Buffer }[];
    assert.ok(rows.every((r) => !r.contents.includes(MARKER)), "nothing sent during the start-up was stored");
    return rows.length;
  } finally {
    db.close();
  }
}

async function pasteSome(server: ServedProcess, count: number, tag: string): Promise<Map<string, Buffer>> {
  const acknowledged = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const body = Buffer.from(`${tag} paste ${i}\n${"log line\n".repeat(50 + i * 40)}`);
    const answer = await upload(server.url, body);
    assert.equal(answer.status, 200, answer.text);
    acknowledged.set(answer.id!, body);
  }
  return acknowledged;
}

async function assertServes(server: ServedProcess, pastes: Map<string, Buffer>): Promise<void> {
  for (const [id, body] of pastes) {
    const res = await fetch(`${server.url}/${id}`, { headers: { accept: "text/plain" } });
    assert.equal(res.status, 200, `paste ${id}`);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(body), `paste ${id}'s bytes`);
  }
}

test("a restore in progress: the port answers 503 (and /healthz 'restoring' with progress) to writes and reads alike, then 200 with the data and nothing sent meanwhile", async () => {
  const prefix = "restoring";
  const first = await serve(newDir("first"), proxy.url(s3.bucket, prefix));
  const pastes = await pasteSome(first, 20, "first");
  assert.equal(await first.stop(), 0);
  const summary = await summarizeReplica(openReplicaClient(s3.url(prefix), s3.env));
  assert.ok(summary.generations.at(-1)!.walSegments.length > 0, "the replica has WAL segments after its snapshot");

  // The restore gets the snapshot and then waits on its first WAL segment until released.
  proxy.hold((method, p) => method === "GET" && p.includes("/wal/"));
  const dir = newDir("second");
  const second = await serve(dir, proxy.url(s3.bucket, prefix), "listening");
  // The snapshot's bytes count as progress while they stream, before the first segment is asked for.
  await until("the restore to be held at its first WAL segment", () => proxy.waiting > 0);
  const restoring = await healthUntil(second, "/healthz 'restoring' with the snapshot applied", (h) => h.body.status === "restoring" && h.body.progress!.bytes > 0);
  assert.equal(restoring.code, 503);
  assert.ok(restoring.retryAfter);
  assert.equal(restoring.body.progress!.segments, 0);
  assert.ok(restoring.body.progress!.totalSegments > 0);
  assert.ok(proxy.waiting > 0, "the restore is held at a WAL segment");
  await assertRefusesEverything(second, [...pastes.keys()]);

  proxy.release();
  const ready = await healthUntil(second, "/healthz 200 after the restore", (h) => h.code !== 503 || !["restoring", "starting"].includes(h.body.status));
  assert.equal(ready.code, 200, JSON.stringify(ready.body));
  await assertServes(second, pastes);
  const after = await pasteSome(second, 2, "second");
  assert.equal(await second.stop(), 0);

  assert.equal(assertNothingFromTheStartup(path.join(dir, "store.db")), pastes.size + after.size);
  const restored = await restoreToEmptyDir(s3.url(prefix), s3.env, newDir("check"));
  const all = new Map([...pastes, ...after]);
  assert.deepEqual(comparePastes(restored.dbPath, all), { equal: [...all.keys()], missing: [], different: [] });
  assert.equal(assertNothingFromTheStartup(restored.dbPath), all.size, "the replica holds the same pastes as the database");
});

test("overlap: a new instance on an empty disk waits (503) while the old one holds the lease and flushes its first snapshot after SIGTERM, then restores everything it acknowledged", async () => {
  const prefix = "overlap";
  // The old instance's first snapshot stays in flight: the replica shows no generation yet,
  // which before this change a new instance took for "no replica" and started empty.
  proxy.hold((method, p) => method === "PUT" && p.includes("/snapshots/"));
  const old = await serve(newDir("old"), proxy.url(s3.bucket, prefix));
  await until("the old instance's first snapshot upload", () => proxy.waiting > 0);
  const acknowledged = await pasteSome(old, 15, "old");
  assert.equal((await summarizeReplica(openReplicaClient(s3.url(prefix), s3.env))).generations.length, 0, "nothing visible in the replica yet");

  const dir = newDir("new");
  const fresh = await serve(dir, proxy.url(s3.bucket, prefix), "listening");
  const waiting = await healthUntil(fresh, "/healthz 'waiting' for the previous writer", (h) => h.body.status === "waiting");
  assert.equal(waiting.code, 503);
  assert.match(waiting.body.message!, new RegExp(`^waiting for the previous writer \\(host ${os.hostname()}, lease until `));
  assert.equal(waiting.body.lease?.host, os.hostname());
  await assertRefusesEverything(fresh, [...acknowledged.keys()]);

  // The platform stops the old one; it flushes (its snapshot, then its WAL) and releases the lease.
  const oldExit = old.stop();
  await healthUntil(fresh, "still not serving while the old one flushes", (h) => h.code === 503);
  proxy.release();
  assert.equal(await oldExit, 0);
  const ready = await healthUntil(fresh, "/healthz 200 on the new instance", (h) => h.code !== 503 || !["waiting", "restoring", "starting"].includes(h.body.status));
  assert.equal(ready.code, 200, JSON.stringify(ready.body));
  await assertServes(fresh, acknowledged);
  const more = await pasteSome(fresh, 2, "new");
  assert.equal(await fresh.stop(), 0);

  // One history: the old generation, then the new instance's generation begun from the restored state.
  const all = new Map([...acknowledged, ...more]);
  assert.equal(assertNothingFromTheStartup(path.join(dir, "store.db")), all.size);
  const restored = await restoreToEmptyDir(s3.url(prefix), s3.env, newDir("check"));
  assert.deepEqual(comparePastes(restored.dbPath, all), { equal: [...all.keys()], missing: [], different: [] });
  assert.equal(assertNothingFromTheStartup(restored.dbPath), all.size);
  const summary = await summarizeReplica(openReplicaClient(s3.url(prefix), s3.env));
  assert.equal(summary.generations.length, 2, "the old one's generation and the new one's");
  assert.ok(summary.generations.every((g) => g.snapshots.length > 0), "each generation starts with a snapshot");
});
