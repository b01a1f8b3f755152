// The LZ4 block format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md).
//
// Only the decoder, for linked blocks (`lz4 -BD`): a linked block refers back into the
// previous block's output, which lz4-napi (whole frames, or one block at a time without a
// dictionary) cannot be given. Independent blocks, what every writer of replicas produces
// by default, are decoded and encoded by lz4-napi (frame.ts). Written here rather than
// taken from lz4js, whose decoder does no bounds checking, so that a corrupt object is an
// error instead of wrong bytes.

const MIN_MATCH = 4;

export class Lz4BlockError extends Error {
  override name = "Lz4BlockError";
}

function readLength(src: Uint8Array, s: number, end: number, length: number): [number, number] {
  for (;;) {
    if (s >= end) throw new Lz4BlockError("LZ4 block is truncated inside a length");
    const b = src[s++]!;
    length += b;
    if (b !== 255) return [length, s];
  }
}

/**
 * Decompresses the block `src` into `dst` at `start`, never writing at or past `limit`;
 * matches may reach back to `dictStart` (the start of the previous blocks' output kept for
 * linked blocks, or `start` for independent ones). Returns the end of the output.
 */
export function decompressBlock(src: Uint8Array, dst: Uint8Array, start: number, limit: number, dictStart: number): number {
  let s = 0;
  let d = start;
  const end = src.byteLength;
  if (end === 0) throw new Lz4BlockError("LZ4 block is empty");
  for (;;) {
    const token = src[s++]!;
    let literals = token >>> 4;
    if (literals === 15) [literals, s] = readLength(src, s, end, literals);
    if (s + literals > end) throw new Lz4BlockError("LZ4 block is truncated inside literals");
    if (d + literals > limit) throw new Lz4BlockError("LZ4 block decompresses past the block size");
    dst.set(src.subarray(s, s + literals), d);
    s += literals;
    d += literals;
    if (s === end) return d;
    if (s + 2 > end) throw new Lz4BlockError("LZ4 block is truncated inside a match offset");
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    let matchLength = token & 15;
    if (matchLength === 15) [matchLength, s] = readLength(src, s, end, matchLength);
    matchLength += MIN_MATCH;
    const from = d - offset;
    if (offset === 0 || from < dictStart) throw new Lz4BlockError(`LZ4 block has an invalid match offset ${offset}`);
    if (d + matchLength > limit) throw new Lz4BlockError("LZ4 block decompresses past the block size");
    // An overlapping match repeats the last `offset` bytes; copying in chunks that double
    // each time keeps every copy non-overlapping.
    while (matchLength > 0) {
      const chunk = Math.min(matchLength, d - from);
      dst.copyWithin(d, from, from + chunk);
      d += chunk;
      matchLength -= chunk;
    }
  }
}
