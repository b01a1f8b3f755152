// Conditional writes and the replica lease against real stores: a directory (which
// implements them) and s3rver (which ignores the headers).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { FileReplicaClient } from "../replica/file/client.js";
import { LEASE_KEY, probeConditionalWrites, WriterConflictError } from "./lease.js";
import { openReplicaClient } from "../replica/url.js";
import { startS3rver, type S3rverHandle } from "../../testkit/s3rver.js";
import { lease, leaseHolder, raceCreates, whileRenewing } from "../../testkit/lease-scenarios.js";
import { useScratchDirs } from "../../testkit/scratch.js";

const newDir = useScratchDirs("litepaste-lease");
let s3: S3rverHandle;

before(async () => {
  s3 = await startS3rver();
});
after(async () => {
  await s3.dispose();
});

const GEN_A = "aaaaaaaaaaaaaaaa";
const GEN_B = "bbbbbbbbbbbbbbbb";

test("directory client: of concurrent creates of one key exactly one wins, and the object is the winner's", async () => {
  const client = new FileReplicaClient(newDir("replica"));
  const { results, winners, stored } = await raceCreates(client);
  assert.equal(stored?.etag, results[winners[0]!]);
  assert.deepEqual(fs.readdirSync(client.root), [LEASE_KEY], "no temporary file left");
});

test("directory client: a swap on a stale etag fails; of concurrent swaps on one etag exactly one wins", async () => {
  const client = new FileReplicaClient(newDir("replica"));
  const first = await client.putIfAbsent(LEASE_KEY, Buffer.from("v1"));
  assert.ok(first);
  const second = await client.putIfMatch(LEASE_KEY, Buffer.from("v2"), first);
  assert.ok(second && second !== first);
  assert.equal(await client.putIfMatch(LEASE_KEY, Buffer.from("stale"), first), null);
  assert.equal((await client.getVersioned(LEASE_KEY))?.body.toString(), "v2");
  assert.equal(await client.putIfMatch("missing.json", Buffer.from("x"), first), null, "a swap needs the object");

  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => client.putIfMatch(LEASE_KEY, Buffer.from(`v3 by ${i}`), second)));
  const winners = results.flatMap((etag, i) => (etag === null ? [] : [i]));
  assert.equal(winners.length, 1);
  assert.equal((await client.getVersioned(LEASE_KEY))?.body.toString(), `v3 by ${winners[0]}`);
  assert.deepEqual(fs.readdirSync(client.root), [LEASE_KEY], "no lock or temporary file left");
});

test("the probe: a directory supports conditional writes, s3rver does not (it ignores the headers); no probe object is left", async () => {
  const dir = newDir("replica");
  assert.equal(await probeConditionalWrites(new FileReplicaClient(dir)), true);
  assert.deepEqual(fs.readdirSync(dir), []);
  const s3client = openReplicaClient(s3.url("probe"), s3.env);
  assert.equal(await probeConditionalWrites(s3client), false);
  const left = [];
  for await (const object of s3client.list("")) left.push(object.key);
  assert.deepEqual(left, []);
});

test("lease: a live holder that renews keeps it (the newcomer gets a conflict naming it); an idle one loses it after the TTL", async () => {
  const client = new FileReplicaClient(newDir("replica"));
  const a = lease(client, "000000000000000a");
  await a.acquire(GEN_A);
  assert.equal((await leaseHolder(client)).generation, GEN_A);

  // A keeps renewing while B waits for the lease.
  const b = lease(client, "000000000000000b");
  await whileRenewing(a, GEN_A, () => assert.rejects(b.acquire(GEN_B), (err: unknown) => {
    assert.ok(err instanceof WriterConflictError);
    assert.equal(err.other.generation, GEN_A);
    assert.match(err.message, new RegExp(GEN_A));
    return true;
  }));
  assert.equal(b.holds, false);

  // A goes idle: B waits the lease out and takes it; A's next renewal is a conflict naming B's generation.
  const startedAt = Date.now();
  await b.acquire(GEN_B);
  assert.ok(Date.now() - startedAt >= 100, "B waited for A's lease to expire");
  assert.equal((await leaseHolder(client)).owner, "000000000000000b");
  await assert.rejects(a.renewIfDue(GEN_A), (err: unknown) => err instanceof WriterConflictError && err.other.generation === GEN_B);
});

test("lease: the same owner (a restart of this database) takes it over at once; a released lease is free at once", async () => {
  const client = new FileReplicaClient(newDir("replica"));
  // An hour: "at once" is then anything under half an hour, which no slow machine misses.
  const ttlMs = 3_600_000;
  await lease(client, "000000000000000a", ttlMs).acquire(GEN_A); // then "crashes": never released
  const restarted = lease(client, "000000000000000a", ttlMs);
  const startedAt = Date.now();
  await restarted.acquire(GEN_A);
  await restarted.release();
  assert.ok(Date.parse((await leaseHolder(client)).expiresAt) <= Date.now());
  const other = lease(client, "000000000000000b", ttlMs);
  await other.acquire(GEN_B);
  assert.ok(Date.now() - startedAt < ttlMs / 2, "no waiting for the TTL");
  assert.equal((await leaseHolder(client)).owner, "000000000000000b");
});

test("lease without conditional writes (s3rver): written and read back; another owner found at renewal is a conflict", async () => {
  const client = openReplicaClient(s3.url("best-effort"), s3.env);
  const a = lease(client, "000000000000000a", 300);
  await a.acquire(GEN_A);
  assert.equal((await leaseHolder(client)).owner, "000000000000000a");
  const b = lease(client, "000000000000000b", 300);
  await b.acquire(GEN_B); // A is idle: B waits the lease out and overwrites it
  assert.equal((await leaseHolder(client)).generation, GEN_B);
  await assert.rejects(a.renewIfDue(GEN_A), (err: unknown) => err instanceof WriterConflictError && err.other.generation === GEN_B);
});
