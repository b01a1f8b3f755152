import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createLz4FrameDecoder, createLz4FrameEncoder, lz4FrameDecode, lz4FrameEncode, lz4FrameEncodeAsync, Lz4FormatError } from "./frame.js";
import { Xxh32, xxh32 } from "./xxh32.js";
import { litestreamFixtures } from "../../testkit/paths.js";
import { scratchDir } from "../../testkit/scratch.js";

const MiB = 1 << 20;
const tmp = scratchDir("litepaste-lz4");

/** Runs the real `lz4` tool over `input` (through a file, so that --content-size can work). */
function lz4Cli(args: string[], input: Uint8Array): Buffer {
  const file = path.join(tmp, `in-${process.hrtime.bigint()}`);
  fs.writeFileSync(file, input);
  try {
    return execFileSync("lz4", [...args, "-c", file], { maxBuffer: 64 * MiB });
  } finally {
    fs.rmSync(file);
  }
}

/** Text-like data that compresses well, with matches that cross 64 KiB and 4 MiB block boundaries. */
function compressible(size: number): Buffer {
  const words = ["paste", "log", "error", "sqlite", "frame", "replica", "\n", " ", "2024-01-01T00:00:00Z", "{\"id\":"];
  const out = Buffer.allocUnsafe(size);
  let seed = 12345;
  for (let i = 0; i < size; ) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const word = words[seed % words.length]!;
    i += out.write(word, i);
  }
  return out;
}

async function streamThrough(transform: NodeJS.ReadWriteStream, data: Buffer, chunkSize: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const parts: Buffer[] = [];
  for (let i = 0; i < data.byteLength; i += chunkSize) parts.push(data.subarray(i, i + chunkSize));
  await pipeline(Readable.from(parts), transform, async (source: AsyncIterable<Buffer | string>) => {
    for await (const chunk of source) chunks.push(Buffer.from(chunk));
  });
  return Buffer.concat(chunks);
}

test("xxh32 matches the reference test vectors", () => {
  assert.equal(xxh32(Buffer.alloc(0)), 0x02cc5d05);
  assert.equal(xxh32(Buffer.from("abc")), 0x32d153ff);
});

test("xxh32 is the same aligned or not, and in one piece or many", () => {
  const data = randomBytes(100_003);
  const whole = xxh32(data);
  for (let offset = 1; offset < 4; offset++) {
    const shifted = Buffer.alloc(data.byteLength + offset);
    data.copy(shifted, offset);
    assert.equal(xxh32(shifted.subarray(offset)), whole, `at offset ${offset}`);
  }
  const pieces = new Xxh32();
  for (let i = 0; i < data.byteLength; i += 7_001) pieces.update(data.subarray(i, i + 7_001));
  assert.equal(pieces.digest(), whole);
});

const samples: [string, Buffer][] = [
  ["empty", Buffer.alloc(0)],
  ["1 byte", Buffer.from([42])],
  ["12 bytes (too short for a match)", Buffer.from("aaaaaaaaaaaa")],
  ["5 MiB of random bytes", randomBytes(5 * MiB)],
  ["9 MiB of compressible text", compressible(9 * MiB)],
  // xxh32 reads aligned 32-bit lanes straight from memory, and bytes one by one otherwise.
  ["1 MiB at an odd offset in its buffer", randomBytes(MiB + 3).subarray(3)],
];

for (const [name, data] of samples) {
  test(`round trip and lz4 CLI interop: ${name}`, async () => {
    const encoded = lz4FrameEncode(data);
    assert.deepEqual(lz4FrameDecode(encoded), data);
    assert.deepEqual(lz4Cli(["-d"], encoded), data, "the lz4 CLI decodes our frame");
    const encodedOffThread = await lz4FrameEncodeAsync(data);
    assert.deepEqual(lz4Cli(["-d"], encodedOffThread), data, "the lz4 CLI decodes the frame compressed on the libuv pool");
    assert.deepEqual(lz4FrameDecode(encodedOffThread), data);
    const streamed = await streamThrough(createLz4FrameEncoder(), data, 100_000);
    assert.deepEqual(lz4Cli(["-d"], streamed), data, "the lz4 CLI decodes our streamed frame");
    assert.deepEqual(await streamThrough(createLz4FrameDecoder(), streamed, 7_777), data);
  });
}

test("compressible data shrinks", () => {
  const data = compressible(MiB);
  assert.ok(lz4FrameEncode(data).byteLength < data.byteLength / 2);
});

test("a full 4 MiB block whose last match is near the block end decodes with the lz4 CLI", () => {
  // lz4js's block compressor puts a match in the last 12 bytes here, which `lz4 -d` rejects.
  const data = Buffer.alloc(4 * MiB);
  for (let i = 0; i < data.byteLength; i++) data[i] = (i * 7 + (i >> 10)) & 0xff;
  data.fill(0, data.byteLength - 1000);
  data[data.byteLength - 12] = 1;
  assert.deepEqual(lz4Cli(["-d"], lz4FrameEncode(data)), data);
});

const cliVariants: [string, string[]][] = [
  ["default (4 MiB independent blocks, content checksum)", []],
  ["-BD linked blocks", ["-BD"]],
  ["-B4 -BD linked 64 KiB blocks", ["-B4", "-BD"]],
  ["-B5 256 KiB blocks", ["-B5"]],
  ["-B6 1 MiB blocks", ["-B6"]],
  ["--content-size", ["--content-size"]],
  ["-BX block checksums", ["-BX"]],
  ["--no-frame-crc", ["--no-frame-crc"]],
  ["-9 high compression", ["-9", "-BD"]],
  ["everything at once", ["-B4", "-BD", "-BX", "--content-size"]],
];

for (const [name, args] of cliVariants) {
  test(`decodes what the lz4 CLI writes: ${name}`, async () => {
    for (const data of [compressible(5 * MiB + 123), randomBytes(300_000), Buffer.alloc(0)]) {
      const encoded = lz4Cli(args, data);
      assert.deepEqual(lz4FrameDecode(encoded), data);
      assert.deepEqual(await streamThrough(createLz4FrameDecoder(), encoded, 65_000), data);
    }
  });
}

test("decodes concatenated frames and skips skippable frames", () => {
  const skippable = Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]), Buffer.from("xyz")]);
  const a = compressible(1000);
  const b = randomBytes(500);
  const joined = Buffer.concat([lz4FrameEncode(a), skippable, lz4Cli([], b)]);
  assert.deepEqual(lz4FrameDecode(joined), Buffer.concat([a, b]));
});

test("every object in the Litestream fixtures decodes as the lz4 CLI decodes it", () => {
  const root = path.join(litestreamFixtures, "replica-v0.3");
  const objects = fs.readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".lz4"));
  assert.ok(objects.length >= 8, `expected the fixture objects under ${root}`);
  for (const object of objects) {
    const encoded = fs.readFileSync(path.join(root, object));
    assert.deepEqual(lz4FrameDecode(encoded), lz4Cli(["-d"], encoded), object);
  }
});

function assertLz4Error(data: Uint8Array, pattern: RegExp): void {
  assert.throws(() => lz4FrameDecode(data), (err: unknown) => err instanceof Lz4FormatError && pattern.test(err.message));
}

test("rejects bad magic, empty input and truncated frames with clear errors", async () => {
  const encoded = lz4Cli(["-BX"], compressible(200_000));
  assertLz4Error(Buffer.from("SQLite format 3\0"), /bad magic number 0x694c5153/);
  assertLz4Error(Buffer.alloc(0), /input is empty/);
  for (const cut of [2, 5, 9, 20, encoded.byteLength - 5, encoded.byteLength - 1]) {
    assertLz4Error(encoded.subarray(0, cut), /truncated LZ4 frame/);
  }
  await assert.rejects(streamThrough(createLz4FrameDecoder(), encoded.subarray(0, 1000), 100), /truncated LZ4 frame/);
  assertLz4Error(Buffer.concat([encoded, Buffer.from("junk")]), /bad magic number/);
});

function flipBit(buf: Buffer, i: number): void {
  buf[i] = buf[i]! ^ 1;
}

test("rejects checksum mismatches", () => {
  const data = randomBytes(10_000); // incompressible: stored as an uncompressed block
  const withContentChecksum = Buffer.from(lz4Cli([], data));
  flipBit(withContentChecksum, 100);
  assertLz4Error(withContentChecksum, /content checksum mismatch/);

  const withBlockChecksum = Buffer.from(lz4Cli(["-BX", "--no-frame-crc"], data));
  flipBit(withBlockChecksum, 100);
  assertLz4Error(withBlockChecksum, /block checksum mismatch/);

  const badHeader = Buffer.from(lz4Cli([], data));
  flipBit(badHeader, 6);
  assertLz4Error(badHeader, /descriptor checksum mismatch/);
});

test("rejects a compressed block that points outside its output", () => {
  // One block: token with 0 literals and a match at offset 9 before any output exists.
  const block = Buffer.from([0x00, 0x09, 0x00, 0x50, 1, 2, 3, 4, 5]);
  const frame = Buffer.alloc(7 + 4 + block.byteLength + 4);
  Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70]).copy(frame, 0);
  frame[6] = (xxh32(frame.subarray(4, 6)) >>> 8) & 0xff;
  frame.writeUInt32LE(block.byteLength, 7);
  block.copy(frame, 11);
  assertLz4Error(frame, /corrupt LZ4 block at byte 11: .*invalid match offset 9/);
});
