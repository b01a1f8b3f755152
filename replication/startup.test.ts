// Start-up on an empty disk against a real s3rver, through a proxy that can refuse requests
// as S3 refuses credentials without a permission: another writer's live lease is waited
// for (not taken as "no replica yet"), a generation with no snapshot yet likewise for a
// lease TTL, and a 403 on the lease's read or the listing is a permissions problem naming
// the IAM action to add.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { prepareReplicator, type StartupPhase } from "./startup.js";
import { REPLICATION_DEFAULTS, type ReplicationConfig } from "./config.js";
import { openReplicaClient } from "./replica/url.js";
import { walSegmentKey } from "./replica/layout.js";
import { LEASE_KEY, ReplicaLease, WriterConflictError } from "./writer/lease.js";
import { startS3rver, type S3rverHandle } from "../testkit/s3rver.js";
import { startS3GateProxy, type S3GateProxy } from "../testkit/s3-gate-proxy.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { testLogger } from "../testkit/test-logger.js";

const newDir = useScratchDirs("litepaste-startup");
let s3: S3rverHandle;
let proxy: S3GateProxy;

before(async () => {
  s3 = await startS3rver();
  proxy = await startS3GateProxy(s3.endpoint);
});
after(async () => {
  await proxy.close();
  await s3.dispose();
});

function config(replicaUrl: string, leaseTtlMs: number = REPLICATION_DEFAULTS.leaseTtlMs): ReplicationConfig {
  return { ...REPLICATION_DEFAULTS, replicaUrl, leaseTtlMs };
}

const leaseGet = (prefix: string) => (method: string, p: string) => method === "GET" && p === `/${s3.bucket}/${prefix}/${LEASE_KEY}`;

test("a 403 on the lease's read is a permissions problem naming s3:ListBucket and s3:GetObject, not a conflict", async (t) => {
  const prefix = "denied-lease";
  const client = openReplicaClient(proxy.url(s3.bucket, prefix), s3.env);
  proxy.deny(leaseGet(prefix));
  t.after(() => proxy.deny(null));

  const read = await client.getVersioned(LEASE_KEY).then(() => null, (err: Error) => err);
  assert.ok(read, "the denied read rejects");
  assert.match(read.message, /S3 denied GetObject of litepaste-lease\.json .*AccessDenied/);
  assert.match(read.message, new RegExp(`s3:GetObject on arn:aws:s3:::${s3.bucket}/${prefix}/\\*`));
  assert.match(read.message, new RegExp(`s3:ListBucket on arn:aws:s3:::${s3.bucket}\\b`));
  assert.doesNotMatch(read.message, /S3RVER/, "no credential in the message");

  const lease = new ReplicaLease({ client, ttlMs: 1000, owner: "0123456789abcdef", logger: testLogger() });
  const taken = await lease.acquire("aaaaaaaaaaaaaaaa").then(() => null, (err: Error) => err);
  assert.ok(taken && !(taken instanceof WriterConflictError), `a permissions error, not a conflict: ${taken?.name}`);
  assert.match(taken.message, /s3:ListBucket/);

  // On an empty disk the start-up cannot tell whether another writer is live: it fails (the
  // server exits non-zero, having accepted nothing), saying which permission to add.
  const start = await prepareReplicator(path.join(newDir("db"), "store.db"), config(proxy.url(s3.bucket, prefix)), testLogger(), client)
    .then(() => null, (err: Error) => err);
  assert.ok(start, "the start-up rejects");
  assert.match(start.message, /^cannot restore .*S3 denied GetObject of litepaste-lease\.json.*s3:ListBucket on arn:aws:s3:::/);
  assert.ok(proxy.denied >= 3);
});

test("a 403 on the restore's listing names s3:ListBucket on the bucket", async (t) => {
  const prefix = "denied-list";
  const client = openReplicaClient(proxy.url(s3.bucket, prefix), s3.env);
  proxy.deny((method, p) => method === "GET" && (p === `/${s3.bucket}` || p === `/${s3.bucket}/`));
  t.after(() => proxy.deny(null));
  const start = await prepareReplicator(path.join(newDir("db"), "store.db"), config(proxy.url(s3.bucket, prefix)), testLogger(), client)
    .then(() => null, (err: Error) => err);
  assert.ok(start, "the start-up rejects");
  assert.match(start.message, new RegExp(`S3 denied ListObjectsV2 .*allow s3:ListBucket on arn:aws:s3:::${s3.bucket}$`));
});

test("an empty disk waits while another writer's lease is live, and goes on once it is released", async () => {
  const url = s3.url("live-lease");
  const other = new ReplicaLease({ client: openReplicaClient(url, s3.env), ttlMs: 600_000, owner: "fedcba9876543210", logger: testLogger() });
  await other.acquire("bbbbbbbbbbbbbbbb");

  const phases: StartupPhase[] = [];
  let settled = false;
  const starting = prepareReplicator(path.join(newDir("db"), "store.db"), config(url), testLogger(), openReplicaClient(url, s3.env), {}, {
    waitPollMs: 20,
    onPhase: (phase) => phases.push(phase),
  }).finally(() => (settled = true));
  while (!phases.some((p) => p.phase === "waiting")) await new Promise((r) => setTimeout(r, 10));
  const waiting = phases.find((p) => p.phase === "waiting")!;
  assert.ok(waiting.phase === "waiting");
  assert.match(waiting.message, /^waiting for the previous writer \(host .+, lease until \d{4}-\d\d-\d\dT.+Z\)$/);
  assert.equal(waiting.holder?.generation, "bbbbbbbbbbbbbbbb");
  assert.equal(settled, false, "still waiting while the lease is live");

  await other.release();
  const prepared = await starting;
  assert.equal(prepared.restored, false, "the replica holds no generation: a fresh start, after the wait");
});

test("an empty disk waits for a generation that has no snapshot yet, for a lease TTL, then refuses to start empty", async () => {
  const url = s3.url("no-snapshot");
  const client = openReplicaClient(url, s3.env);
  await client.put(walSegmentKey("cccccccccccccccc", 0, 0), Buffer.from("not yet restorable"));
  const phases: StartupPhase[] = [];
  const result = await prepareReplicator(path.join(newDir("db"), "store.db"), config(url, 300), testLogger(), client, {}, {
    waitPollMs: 20,
    onPhase: (phase) => phases.push(phase),
  }).then(() => null, (err: Error) => err);
  assert.ok(phases.some((p) => p.phase === "waiting" && p.message === "waiting for generation cccccccccccccccc to get its first snapshot"));
  assert.ok(result, "never a fresh, empty start over a replica with data");
  assert.match(result.message, /generation cccccccccccccccc .* has no snapshot/);
});
