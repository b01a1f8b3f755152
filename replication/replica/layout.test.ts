import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  generationPrefix, isGenerationId, newGenerationId, parseReplicaKey, snapshotKey, walSegmentKey,
} from "./layout.js";
import { litestreamFixtures } from "../../testkit/paths.js";

const gen = "0123456789abcdef";

test("formats keys as Litestream v0.3 names them", () => {
  assert.equal(generationPrefix(gen), "generations/0123456789abcdef/");
  assert.equal(snapshotKey(gen, 0), "generations/0123456789abcdef/snapshots/00000000.snapshot.lz4");
  assert.equal(snapshotKey(gen, 0x1a), "generations/0123456789abcdef/snapshots/0000001a.snapshot.lz4");
  assert.equal(walSegmentKey(gen, 2, 0x1038), "generations/0123456789abcdef/wal/00000002_00001038.wal.lz4");
  assert.equal(walSegmentKey(gen, 1, 0x1_0000_0020), "generations/0123456789abcdef/wal/00000001_100000020.wal.lz4");
});

test("parses what it formats, including offsets wider than 8 hex digits", () => {
  for (const [index, offset] of [[0, 0], [1, 32], [0xffffffff, 0x12345678], [7, 2 ** 40 + 8]] as const) {
    assert.deepEqual(parseReplicaKey(walSegmentKey(gen, index, offset)), { kind: "wal", generation: gen, index, offset });
    assert.deepEqual(parseReplicaKey(snapshotKey(gen, index)), { kind: "snapshot", generation: gen, index });
  }
  assert.deepEqual(parseReplicaKey(`generations/${gen}/wal/0000000000000003_0000000000000020.wal.lz4`),
    { kind: "wal", generation: gen, index: 3, offset: 32 });
});

test("parses every key in the Litestream fixtures", () => {
  const root = path.join(litestreamFixtures, "replica-v0.3/restore-ok");
  const keys = fs.readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".lz4"));
  const parsed = keys.map((k) => parseReplicaKey(k.split(path.sep).join("/")));
  assert.equal(parsed.length, 7);
  assert.ok(parsed.every((p) => p !== null && p.generation === "0000000000000000"));
  assert.deepEqual(parsed.filter((p) => p?.kind === "snapshot").length, 1);
});

test("rejects keys that are not snapshots or segments", () => {
  for (const key of [
    `generations/${gen}/snapshots/0000000.snapshot.lz4`, // 7 digits
    `generations/${gen}/snapshots/00000000000000000.snapshot.lz4`, // 17 digits
    `generations/${gen}/snapshots/0000000A.snapshot.lz4`, // uppercase
    `generations/${gen}/snapshots/00000000.snapshot`,
    `generations/${gen}/wal/00000000-00000000.wal.lz4`,
    `generations/${gen}/wal/00000000_00000000.wal.lz4.tmp`,
    `generations/0123/wal/00000000_00000000.wal.lz4`,
    `x/generations/${gen}/wal/00000000_00000000.wal.lz4`,
    `generations/${gen}/wal/ffffffffffffffff_00000000.wal.lz4`, // beyond a safe integer
    "",
  ]) {
    assert.equal(parseReplicaKey(key), null, key);
  }
});

test("new generation ids are valid and distinct", () => {
  const ids = new Set(Array.from({ length: 100 }, () => newGenerationId()));
  assert.equal(ids.size, 100);
  for (const id of ids) assert.ok(isGenerationId(id), id);
  assert.equal(isGenerationId("0123456789ABCDEF"), false);
  assert.equal(isGenerationId("0123456789abcde"), false);
});

test("refuses to format keys from invalid parts", () => {
  assert.throws(() => snapshotKey("nope", 0), /invalid generation id "nope"/);
  assert.throws(() => walSegmentKey(gen, -1, 0), /invalid WAL index -1/);
  assert.throws(() => walSegmentKey(gen, 0, 1.5), /invalid WAL offset 1.5/);
});
