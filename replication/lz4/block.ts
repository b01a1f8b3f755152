// The LZ4 block format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md).
//
// Written here rather than taken from lz4js: lz4js's compressor lets a match start fewer
// than 12 bytes before the end of a block, which the reference decoder (`lz4 -d`) rejects
// for full-size blocks, and its decoder does no bounds checking, so a corrupt object
// would turn into wrong bytes instead of an error.

const MIN_MATCH = 4;
/** The last 5 bytes of a block are always literals. */
const LAST_LITERALS = 5;
/** The last match must start at least 12 bytes before the end of the block. */
const MFLIMIT = 12;
const MAX_OFFSET = 65535;
const HASH_LOG = 16;
/** After this many misses in a row the search step grows, so incompressible data goes fast. */
const SKIP_TRIGGER = 6;

export class Lz4BlockError extends Error {
  override name = "Lz4BlockError";
}

/** The most a block of `n` bytes can grow to when compressed. */
export function compressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

function read32(src: Uint8Array, i: number): number {
  return (src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24)) >>> 0;
}

function hash(sequence: number): number {
  return Math.imul(sequence, 2654435761) >>> (32 - HASH_LOG);
}

function writeLength(dst: Uint8Array, d: number, extra: number): number {
  for (; extra >= 255; extra -= 255) dst[d++] = 255;
  dst[d++] = extra;
  return d;
}

/**
 * A reusable compressor (its hash table is 256 KiB, worth keeping across blocks). Every
 * block is compressed independently of the ones before it.
 */
export class Lz4BlockCompressor {
  private readonly table = new Int32Array(1 << HASH_LOG);

  /**
   * Compresses `src` into `dst` (at least `compressBound(src.length)` bytes) and returns the
   * compressed length, or 0 when compressing would not make the block smaller.
   */
  compress(src: Uint8Array, dst: Uint8Array): number {
    const n = src.byteLength;
    const table = this.table;
    table.fill(-1);
    const matchLimit = n - LAST_LITERALS;
    const lastMatchStart = n - MFLIMIT;
    let anchor = 0;
    let d = 0;
    let ip = 0;
    let misses = 1 << SKIP_TRIGGER;
    while (ip <= lastMatchStart) {
      const sequence = read32(src, ip);
      const h = hash(sequence);
      const ref = table[h]!;
      table[h] = ip;
      if (ref < 0 || ip - ref > MAX_OFFSET || read32(src, ref) !== sequence) {
        ip += misses++ >> SKIP_TRIGGER;
        continue;
      }
      misses = 1 << SKIP_TRIGGER;
      let matchLength = MIN_MATCH;
      while (ip + matchLength < matchLimit && src[ip + matchLength] === src[ref + matchLength]) matchLength++;
      d = this.writeSequence(src, dst, d, anchor, ip, ip - ref, matchLength);
      if (d >= n) return 0;
      ip += matchLength;
      anchor = ip;
    }
    const literals = n - anchor;
    if (d + 1 + Math.ceil(literals / 255) + literals >= n) return 0;
    dst[d++] = Math.min(literals, 15) << 4;
    if (literals >= 15) d = writeLength(dst, d, literals - 15);
    dst.set(src.subarray(anchor, n), d);
    return d + literals;
  }

  private writeSequence(
    src: Uint8Array, dst: Uint8Array, d: number, anchor: number, ip: number, offset: number, matchLength: number,
  ): number {
    const literals = ip - anchor;
    const extraMatch = matchLength - MIN_MATCH;
    const token = d++;
    dst[token] = (Math.min(literals, 15) << 4) | Math.min(extraMatch, 15);
    if (literals >= 15) d = writeLength(dst, d, literals - 15);
    dst.set(src.subarray(anchor, ip), d);
    d += literals;
    dst[d++] = offset & 0xff;
    dst[d++] = offset >>> 8;
    if (extraMatch >= 15) d = writeLength(dst, d, extraMatch - 15);
    return d;
  }
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
