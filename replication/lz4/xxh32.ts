// xxHash32 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md): the checksum
// the LZ4 frame format uses for its header, blocks and content. Incremental, so that a
// streamed frame's content checksum needs no more memory than one 16-byte stripe.

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

function round(acc: number, lane: number): number {
  acc = (acc + Math.imul(lane, PRIME2)) >>> 0;
  return Math.imul(rotl(acc, 13), PRIME1) >>> 0;
}

/** `round` in int32 arithmetic, for the bulk loop: V8 keeps int32s unboxed in registers. */
function round32(acc: number, lane: number): number {
  acc = (acc + Math.imul(lane, PRIME2)) | 0;
  return Math.imul((acc << 13) | (acc >>> 19), PRIME1);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function readU32LE(data: Uint8Array, i: number): number {
  return (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
}

export class Xxh32 {
  private v1: number;
  private v2: number;
  private v3: number;
  private v4: number;
  private totalLength = 0;
  /** Bytes that do not yet fill a 16-byte stripe. */
  private readonly pending = new Uint8Array(16);
  private pendingLength = 0;

  constructor(private readonly seed = 0) {
    this.v1 = (seed + PRIME1 + PRIME2) >>> 0;
    this.v2 = (seed + PRIME2) >>> 0;
    this.v3 = seed >>> 0;
    this.v4 = (seed - PRIME1) >>> 0;
  }

  update(data: Uint8Array): this {
    this.totalLength += data.byteLength;
    let i = 0;
    if (this.pendingLength > 0) {
      const take = Math.min(16 - this.pendingLength, data.byteLength);
      this.pending.set(data.subarray(0, take), this.pendingLength);
      this.pendingLength += take;
      i = take;
      if (this.pendingLength < 16) return this;
      this.stripe(this.pending, 0);
      this.pendingLength = 0;
    }
    i = this.stripes(data, i);
    this.pending.set(data.subarray(i), 0);
    this.pendingLength = data.byteLength - i;
    return this;
  }

  digest(): number {
    let h: number;
    if (this.totalLength >= 16) {
      h = (rotl(this.v1, 1) + rotl(this.v2, 7) + rotl(this.v3, 12) + rotl(this.v4, 18)) >>> 0;
    } else {
      h = (this.seed + PRIME5) >>> 0;
    }
    // The spec adds the length modulo 2^32.
    h = (h + (this.totalLength >>> 0)) >>> 0;
    const tail = this.pending;
    let i = 0;
    for (; i + 4 <= this.pendingLength; i += 4) {
      h = (h + Math.imul(readU32LE(tail, i), PRIME3)) >>> 0;
      h = Math.imul(rotl(h, 17), PRIME4) >>> 0;
    }
    for (; i < this.pendingLength; i++) {
      h = (h + Math.imul(tail[i]!, PRIME5)) >>> 0;
      h = Math.imul(rotl(h, 11), PRIME1) >>> 0;
    }
    h = Math.imul(h ^ (h >>> 15), PRIME2) >>> 0;
    h = Math.imul(h ^ (h >>> 13), PRIME3) >>> 0;
    return (h ^ (h >>> 16)) >>> 0;
  }

  /**
   * Every whole stripe of `data` from `i`; returns where the rest begins. The hot loop of a
   * segment upload: it reads 32-bit lanes straight from memory when they are aligned, and
   * keeps the accumulators in locals (field stores in the loop ran ~5× slower).
   */
  private stripes(data: Uint8Array, i: number): number {
    const end = i + ((data.byteLength - i) & ~15);
    if (end === i) return i;
    let v1 = this.v1 | 0;
    let v2 = this.v2 | 0;
    let v3 = this.v3 | 0;
    let v4 = this.v4 | 0;
    if (LITTLE_ENDIAN && (data.byteOffset + i) % 4 === 0) {
      const lanes = new Int32Array(data.buffer, data.byteOffset + i, (end - i) >>> 2);
      for (let w = 0; w < lanes.length; w += 4) {
        v1 = round32(v1, lanes[w]!);
        v2 = round32(v2, lanes[w + 1]!);
        v3 = round32(v3, lanes[w + 2]!);
        v4 = round32(v4, lanes[w + 3]!);
      }
    } else {
      for (let j = i; j < end; j += 16) {
        v1 = round32(v1, readU32LE(data, j) | 0);
        v2 = round32(v2, readU32LE(data, j + 4) | 0);
        v3 = round32(v3, readU32LE(data, j + 8) | 0);
        v4 = round32(v4, readU32LE(data, j + 12) | 0);
      }
    }
    this.v1 = v1 >>> 0;
    this.v2 = v2 >>> 0;
    this.v3 = v3 >>> 0;
    this.v4 = v4 >>> 0;
    return end;
  }

  private stripe(data: Uint8Array, i: number): void {
    this.v1 = round(this.v1, readU32LE(data, i));
    this.v2 = round(this.v2, readU32LE(data, i + 4));
    this.v3 = round(this.v3, readU32LE(data, i + 8));
    this.v4 = round(this.v4, readU32LE(data, i + 12));
  }
}

export function xxh32(data: Uint8Array, seed = 0): number {
  return new Xxh32(seed).update(data).digest();
}
