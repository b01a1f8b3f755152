import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { FileReplicaClient } from "./client.js";
import { listAll, testReplicaClientContract } from "../contract.js";
import { scratchDir } from "../../../testkit/scratch.js";

const tmp = scratchDir("litepaste-file-client");
let counter = 0;
const newDir = () => path.join(tmp, `replica-${++counter}`);

testReplicaClientContract("directory", async () => new FileReplicaClient(newDir()));

test("directory client: objects are files at their keys; lastModified is the mtime", async () => {
  const dir = newDir();
  const client = new FileReplicaClient(dir);
  assert.equal(client.description, `file://${dir}`);
  await client.put("generations/0000000000000001/snapshots/00000000.snapshot.lz4", Buffer.from("abc"));
  const file = path.join(dir, "generations/0000000000000001/snapshots/00000000.snapshot.lz4");
  assert.equal(fs.readFileSync(file, "utf8"), "abc");
  const when = new Date("2024-03-01T12:00:00Z");
  fs.utimesSync(file, when, when);
  const [object] = await listAll(client, "");
  assert.equal(object?.lastModified.getTime(), when.getTime());
});

test("directory client: a write that fails half-way leaves nothing under the final name", async () => {
  const dir = newDir();
  const client = new FileReplicaClient(dir);
  const key = "generations/0000000000000001/snapshots/00000000.snapshot.lz4";
  const failing = new Readable({
    read() {
      this.push(Buffer.alloc(1000, 1));
      this.destroy(new Error("upstream broke"));
    },
  });
  await assert.rejects(client.putStream(key, failing), /cannot write generations\/0000000000000001\/snapshots\/00000000\.snapshot\.lz4 to file:.*upstream broke/);
  assert.deepEqual(fs.readdirSync(path.join(dir, "generations/0000000000000001/snapshots")), [], "no object and no temp file");
  assert.deepEqual(await listAll(client, ""), []);
});

test("directory client: temporary files a crash left behind are not listed", async () => {
  const dir = newDir();
  const client = new FileReplicaClient(dir);
  await client.put("generations/0000000000000001/wal/00000000_00000000.wal.lz4", Buffer.from("x"));
  fs.writeFileSync(path.join(dir, "generations/0000000000000001/wal/.00000000_00000020.wal.lz4.tmp-123456789abc"), "half");
  assert.deepEqual((await listAll(client, "")).map((o) => o.key), ["generations/0000000000000001/wal/00000000_00000000.wal.lz4"]);
});

test("directory client: delete removes directories it emptied, never the root", async () => {
  const dir = newDir();
  const client = new FileReplicaClient(dir);
  await client.put("generations/0000000000000001/wal/00000000_00000000.wal.lz4", Buffer.from("x"));
  await client.put("generations/0000000000000002/wal/00000000_00000000.wal.lz4", Buffer.from("y"));
  await client.delete(["generations/0000000000000001/wal/00000000_00000000.wal.lz4"]);
  assert.deepEqual(fs.readdirSync(path.join(dir, "generations")), ["0000000000000002"]);
  await client.delete(["generations/0000000000000002/wal/00000000_00000000.wal.lz4"]);
  assert.deepEqual(fs.readdirSync(dir), []);
  await client.put("generations/0000000000000002/wal/00000000_00000020.wal.lz4", Buffer.from("z"));
  assert.equal((await listAll(client, "")).length, 1);
});

test("directory client: keys cannot escape the replica directory", async () => {
  const client = new FileReplicaClient(newDir());
  for (const key of ["../outside", "generations/../../x", "/etc/passwd", "a//b", ""]) {
    await assert.rejects(client.put(key, Buffer.from("x")), /invalid replica key/, key);
  }
});

test("directory client: listing a replica directory that does not exist yet is empty", async () => {
  assert.deepEqual(await listAll(new FileReplicaClient(newDir()), "generations/"), []);
});
