import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { litestreamFixtures } from "../../testkit/paths.js";
import { parseWalHeader, readWalFrames, walChecksum, WalFormatError, WAL_MAGIC_BE } from "./wal.js";

const fixture = (name: string) => readFileSync(path.join(litestreamFixtures, "wal-reader", name, "wal"));

test("ok/wal: three frames with their pages and offsets, then the end", () => {
  const wal = fixture("ok");
  const frames = [...readWalFrames(wal)];
  assert.deepEqual(
    frames.map((f) => [f.offset, f.pgno, f.commit]),
    [[32, 1, 0], [4152, 2, 2], [8272, 2, 2]],
  );
  assert.ok(frames[0]!.page.equals(wal.subarray(56, 4152)));
  assert.ok(frames[1]!.page.equals(wal.subarray(4176, 8272)));
  assert.ok(frames[2]!.page.equals(wal.subarray(8296, 12392)));
});

for (const name of ["salt-mismatch", "frame-checksum-mismatch"]) {
  test(`${name}/wal: the valid WAL ends after frame 1`, () => {
    const wal = fixture(name);
    const frames = [...readWalFrames(wal)];
    assert.deepEqual(frames.map((f) => [f.offset, f.pgno, f.commit]), [[32, 1, 0]]);
    assert.ok(frames[0]!.page.equals(wal.subarray(56, 4152)));
  });
}

test("frame-salts/wal: only frames with the header's salts count, and the chain holds", () => {
  const wal = fixture("frame-salts");
  const header = parseWalHeader(wal);
  const frames = [...readWalFrames(wal)];
  assert.ok(frames.length > 0);
  // Every frame in the file that carries the header's salts and lies inside the valid prefix is returned.
  const frameSize = 24 + header.pageSize;
  for (const f of frames) {
    assert.equal(wal.readUInt32BE(f.offset + 8), header.salt1);
    assert.equal(wal.readUInt32BE(f.offset + 12), header.salt2);
  }
  const next = 32 + frames.length * frameSize;
  if (next + frameSize <= wal.length) {
    const nextSalts = [wal.readUInt32BE(next + 8), wal.readUInt32BE(next + 12)];
    assert.notDeepEqual(nextSalts, [header.salt1, header.salt2], "the reader stopped before a frame of its own round");
  }
  const saltsInFile = new Set<string>();
  for (let off = 32; off + frameSize <= wal.length; off += frameSize) {
    saltsInFile.add(`${wal.readUInt32BE(off + 8).toString(16)},${wal.readUInt32BE(off + 12).toString(16).padStart(8, "0")}`);
  }
  for (const s of ["1b9a294b,37f91916", "1b9a294a,031f195e", "1b9a2949,13b3dd67"]) assert.ok(saltsInFile.has(s), s);
});

test("a header with another magic or version is rejected with a clear error", () => {
  const wal = Buffer.from(fixture("ok"));
  const badMagic = Buffer.from(wal);
  badMagic.writeUInt32BE(0x12345678, 0);
  assert.throws(() => parseWalHeader(badMagic), (e: Error) => e instanceof WalFormatError && /invalid wal header magic/.test(e.message));
  const badVersion = Buffer.from(wal);
  badVersion.writeUInt32BE(3007001, 4);
  assert.throws(() => parseWalHeader(badVersion), /unsupported wal version/);
});

test("a header whose checksum does not match is rejected", () => {
  const wal = Buffer.from(fixture("ok"));
  wal.writeUInt32BE(wal.readUInt32BE(16) ^ 1, 16);
  assert.throws(() => parseWalHeader(wal), /invalid wal header checksum/);
});

test("big-endian checksums are honoured: the same WAL re-signed big-endian reads the same frames", () => {
  const wal = fixture("ok");
  assert.equal(parseWalHeader(wal).bigEndian, false);
  // Re-sign header and frames with big-endian checksums; the reader must follow the magic.
  const be = Buffer.from(wal);
  be.writeUInt32BE(WAL_MAGIC_BE, 0);
  const sum = (data: Buffer, s0: number, s1: number) => {
    for (let i = 0; i < data.length; i += 8) {
      s0 = (s0 + data.readUInt32BE(i) + s1) >>> 0;
      s1 = (s1 + data.readUInt32BE(i + 4) + s0) >>> 0;
    }
    return [s0, s1] as const;
  };
  let [s0, s1] = sum(be.subarray(0, 24), 0, 0);
  be.writeUInt32BE(s0, 24); be.writeUInt32BE(s1, 28);
  for (let off = 32; off < be.length; off += 4120) {
    [s0, s1] = sum(Buffer.concat([be.subarray(off, off + 8), be.subarray(off + 24, off + 4120)]), s0, s1);
    be.writeUInt32BE(s0, off + 16); be.writeUInt32BE(s1, off + 20);
  }
  assert.deepEqual([...readWalFrames(be)].map((f) => f.pgno), [1, 2, 2]);
  assert.equal([...readWalFrames(Buffer.concat([wal.subarray(0, 32), be.subarray(32)]))].length, 0);
});

test("the checksum is the same whether the data is aligned in memory or not, in either byte order", () => {
  const wal = fixture("ok");
  for (const bigEndian of [false, true]) {
    const aligned = walChecksum(bigEndian, wal, 1, 2);
    for (let offset = 1; offset < 4; offset++) {
      const shifted = Buffer.alloc(wal.length + offset);
      wal.copy(shifted, offset);
      assert.deepEqual(walChecksum(bigEndian, shifted.subarray(offset), 1, 2), aligned, `offset ${offset}, big-endian ${bigEndian}`);
    }
  }
  // The header's own checksum, over its first 24 bytes, is the one SQLite wrote.
  const header = parseWalHeader(wal);
  const shifted = Buffer.alloc(25);
  wal.copy(shifted, 1, 0, 24);
  assert.deepEqual(walChecksum(false, shifted.subarray(1), 0, 0), [header.checksum1, header.checksum2]);
});
