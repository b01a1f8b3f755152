// The writer guard keeps the lease alive while an upload runs, against a real directory
// replica whose uploads are held at a gate (testkit/gated-client.ts): an upload longer than
// the TTL (a large first snapshot) must not let another instance take the replica.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FileReplicaClient } from "../replica/file/client.js";
import { LEASE_KEY, WriterConflictError } from "./lease.js";
import { WriterGuard } from "./single-writer.js";
import { CountingReplicaClient } from "../../testkit/counting-client.js";
import { GatedReplicaClient } from "../../testkit/gated-client.js";
import { lease, leaseHolder } from "../../testkit/lease-scenarios.js";
import { useScratchDirs } from "../../testkit/scratch.js";
import { testLogger } from "../../testkit/test-logger.js";
import { until, withHangTimeout } from "../../testkit/wait.js";

const newDir = useScratchDirs("litepaste-single-writer");
const TTL_MS = 600;
const GEN = "aaaaaaaaaaaaaaaa";
const SNAPSHOT_KEY = `generations/${GEN}/snapshots/00000000.snapshot.lz4`;

function setUp() {
  const plain = new FileReplicaClient(newDir("replica"));
  const counting = new CountingReplicaClient(plain);
  const gated = new GatedReplicaClient(counting);
  const guard = new WriterGuard({ dbPath: path.join(newDir("db"), "db.sqlite"), client: gated, leaseTtlMs: TTL_MS, logger: testLogger(), restoredFrom: null });
  const leaseWrites = () => counting.written.filter((key) => key === LEASE_KEY).length;
  return { plain, gated, guard, leaseWrites };
}

/** Waits until the stored lease's expiresAt has moved past `after`, and returns it. */
function nextExpiry(plain: FileReplicaClient, after: string): Promise<string> {
  return until("a renewal of the lease during the held upload", async () => {
    const { expiresAt } = await leaseHolder(plain);
    return Date.parse(expiresAt) > Date.parse(after) && expiresAt;
  });
}

test("an upload held for several TTLs keeps the lease renewed (a newcomer gets a conflict); once it ends, an idle guard writes the lease no more", async () => {
  const { plain, gated, guard, leaseWrites } = setUp();
  gated.hold();
  const upload = guard.whileUploading(GEN, () => gated.put(SNAPSHOT_KEY, Buffer.from("a large snapshot")));
  await until("the upload waiting at the gate", () => gated.waiting === 1);
  const heldAt = Date.now();

  // A newcomer on an empty disk tries to take the replica meanwhile: the holder is alive.
  const rival = assert.rejects(lease(plain, "000000000000000b", TTL_MS).acquire("bbbbbbbbbbbbbbbb"), WriterConflictError);
  let expiresAt = (await leaseHolder(plain)).expiresAt;
  for (let renewal = 1; renewal <= 9; renewal++) {
    expiresAt = await nextExpiry(plain, expiresAt);
    assert.equal(gated.waiting, 1, "the upload is still held");
  }
  // Nine renewals a third of a TTL apart at least: the upload has outlasted the TTL three times.
  assert.ok(Date.now() - heldAt >= 3 * TTL_MS);
  await rival;
  assert.equal(gated.waiting, 1, "the newcomer was refused while the upload was held");
  assert.equal((await leaseHolder(plain)).generation, GEN);

  gated.release();
  await withHangTimeout("the released upload", upload);
  assert.ok(await plain.getVersioned(SNAPSHOT_KEY), "the upload completed");

  const writesWhenDone = leaseWrites();
  await sleep(3 * TTL_MS);
  assert.equal(leaseWrites(), writesWhenDone, "no lease write while idle");
});

test("another writer taking the lease during a held upload: the upload ends with WriterConflictError, and renewals stop", async () => {
  const { plain, gated, guard, leaseWrites } = setUp();
  gated.hold();
  const upload = guard.whileUploading(GEN, () => gated.put(SNAPSHOT_KEY, Buffer.from("a large snapshot")));
  await until("the upload waiting at the gate", () => gated.waiting === 1);

  // Another instance that believed the lease expired (a clock far off) overwrites it.
  const other = { owner: "000000000000000b", generation: "bbbbbbbbbbbbbbbb", host: "elsewhere", pid: 1, acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() };
  await plain.put(LEASE_KEY, Buffer.from(JSON.stringify(other)));
  const writesBefore = leaseWrites();
  await until("the guard's next renewal failing its swap", () => leaseWrites() > writesBefore);
  // Its read of who holds the lease now, then a whole TTL (three renewal periods) with no lease write: renewals stopped.
  await until("renewals stopping at the conflict", async () => {
    const writes = leaseWrites();
    await sleep(TTL_MS);
    return leaseWrites() === writes;
  });
  gated.release();
  await assert.rejects(withHangTimeout("the released upload", upload), (err: unknown) => {
    assert.ok(err instanceof WriterConflictError);
    assert.equal(err.other.generation, "bbbbbbbbbbbbbbbb");
    return true;
  });
  assert.equal((await leaseHolder(plain)).owner, other.owner, "the other writer's lease is left alone");

  const writesAfter = leaseWrites();
  await sleep(3 * TTL_MS);
  assert.equal(leaseWrites(), writesAfter, "no renewal after the conflict");
  await assert.rejects(guard.whileUploading(GEN, () => Promise.resolve()), WriterConflictError);
});
