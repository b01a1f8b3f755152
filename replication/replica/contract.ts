// The behaviour every ReplicaClient must have, as tests that the directory and the S3
// clients both run (from their own *.test.ts files).

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { ReplicaObjectNotFoundError, type ReplicaClient, type ReplicaObject } from "./client.js";

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

export async function listAll(client: ReplicaClient, prefix: string): Promise<ReplicaObject[]> {
  const objects: ReplicaObject[] = [];
  for await (const object of client.list(prefix)) objects.push(object);
  return objects.sort((a, b) => a.key.localeCompare(b.key));
}

/** Registers the contract tests; `newClient` gives a client over an empty replica each time. */
export function testReplicaClientContract(kind: string, newClient: () => Promise<ReplicaClient>): void {
  test(`${kind} client: put, get and list`, async () => {
    const client = await newClient();
    const before = Date.now();
    const a = randomBytes(1000);
    await client.put("generations/0000000000000001/wal/00000000_00000000.wal.lz4", a);
    await client.put("generations/0000000000000001/snapshots/00000000.snapshot.lz4", Buffer.from("snap"));
    await client.put("generations/0000000000000002/snapshots/00000000.snapshot.lz4", Buffer.alloc(0));
    assert.deepEqual(await readAll(await client.get("generations/0000000000000001/wal/00000000_00000000.wal.lz4")), a);

    const all = await listAll(client, "generations/");
    assert.deepEqual(all.map((o) => [o.key, o.size]), [
      ["generations/0000000000000001/snapshots/00000000.snapshot.lz4", 4],
      ["generations/0000000000000001/wal/00000000_00000000.wal.lz4", 1000],
      ["generations/0000000000000002/snapshots/00000000.snapshot.lz4", 0],
    ]);
    for (const object of all) {
      // Object stores keep whole seconds; allow for that and a little clock skew.
      assert.ok(object.lastModified.getTime() >= before - 2000 && object.lastModified.getTime() <= Date.now() + 2000);
    }
    assert.deepEqual((await listAll(client, "generations/0000000000000001/")).length, 2);
    assert.deepEqual((await listAll(client, "generations/0000000000000001/wal/0000")).map((o) => o.key),
      ["generations/0000000000000001/wal/00000000_00000000.wal.lz4"]);
    assert.deepEqual(await listAll(client, "generations/00000000000000099/"), []);
  });

  test(`${kind} client: putStream stores a stream of several chunks`, async () => {
    const client = await newClient();
    const parts = Array.from({ length: 20 }, () => randomBytes(100_000));
    await client.putStream("generations/0000000000000001/snapshots/00000001.snapshot.lz4", Readable.from(parts));
    assert.deepEqual(
      await readAll(await client.get("generations/0000000000000001/snapshots/00000001.snapshot.lz4")),
      Buffer.concat(parts),
    );
  });

  test(`${kind} client: put replaces an object`, async () => {
    const client = await newClient();
    await client.put("generations/0000000000000001/snapshots/00000000.snapshot.lz4", Buffer.from("old contents"));
    await client.put("generations/0000000000000001/snapshots/00000000.snapshot.lz4", Buffer.from("new"));
    assert.equal((await readAll(await client.get("generations/0000000000000001/snapshots/00000000.snapshot.lz4"))).toString(), "new");
  });

  test(`${kind} client: get of a missing object names the key`, async () => {
    const client = await newClient();
    await assert.rejects(client.get("generations/0000000000000001/wal/00000000_00000000.wal.lz4"), (err: unknown) => {
      assert.ok(err instanceof ReplicaObjectNotFoundError);
      assert.equal(err.key, "generations/0000000000000001/wal/00000000_00000000.wal.lz4");
      assert.match(err.message, /generations\/0000000000000001\/wal\/00000000_00000000\.wal\.lz4/);
      return true;
    });
  });

  test(`${kind} client: delete removes objects and ignores missing ones`, async () => {
    const client = await newClient();
    const keys = Array.from({ length: 5 }, (_, i) => `generations/0000000000000001/wal/00000000_0000000${i}.wal.lz4`);
    for (const key of keys) await client.put(key, Buffer.from(key));
    await client.put("generations/0000000000000002/snapshots/00000000.snapshot.lz4", Buffer.from("keep"));
    await client.delete([...keys.slice(0, 4), "generations/0000000000000003/snapshots/00000000.snapshot.lz4"]);
    assert.deepEqual((await listAll(client, "")).map((o) => o.key), [
      keys[4],
      "generations/0000000000000002/snapshots/00000000.snapshot.lz4",
    ]);
    await client.delete([]);
  });
}
