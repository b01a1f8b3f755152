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
    for (; i + 16 <= data.byteLength; i += 16) this.stripe(data, i);
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
