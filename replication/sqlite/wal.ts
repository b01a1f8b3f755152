// SQLite WAL format: header and frame parsing with salt and cumulative-checksum
// verification. See https://www.sqlite.org/fileformat2.html#walformat and
// docs/design/replication.md ("SQLite WAL facts").

export const WAL_HEADER_SIZE = 32;
export const WAL_FRAME_HEADER_SIZE = 24;
export const WAL_MAGIC_LE = 0x377f0682;
export const WAL_MAGIC_BE = 0x377f0683;
export const WAL_VERSION = 3007000;

export class WalFormatError extends Error {
  override name = "WalFormatError";
}

export interface WalHeader {
  /** Checksums are computed over big-endian words (magic 0x377f0683). */
  readonly bigEndian: boolean;
  readonly pageSize: number;
  readonly checkpointSeq: number;
  readonly salt1: number;
  readonly salt2: number;
  readonly checksum1: number;
  readonly checksum2: number;
}

export interface WalFrame {
  /** Byte offset of the frame header inside its WAL round. */
  readonly offset: number;
  readonly pgno: number;
  /** Database size in pages after this commit; 0 for a frame that is not a commit frame. */
  readonly commit: number;
  readonly page: Buffer;
  /** Cumulative checksum after this frame: the seed for the next one. */
  readonly checksum: readonly [number, number];
}

export function walFrameSize(pageSize: number): number {
  return WAL_FRAME_HEADER_SIZE + pageSize;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * SQLite's WAL checksum over `data` (a multiple of 8 bytes), seeded with s0/s1. Run on every
 * frame shipped: it adds in int32 (wrapping like SQLite's u32) and, when the WAL's byte
 * order is the machine's and the data is aligned, reads the words straight from memory.
 */
export function walChecksum(bigEndian: boolean, data: Uint8Array, s0: number, s1: number): [number, number] {
  let a = s0 | 0;
  let b = s1 | 0;
  const words = data.byteLength >>> 2;
  if (bigEndian !== HOST_LITTLE_ENDIAN && data.byteOffset % 4 === 0) {
    const native = new Int32Array(data.buffer, data.byteOffset, words);
    for (let i = 0; i + 1 < words; i += 2) {
      a = (a + native[i]! + b) | 0;
      b = (b + native[i + 1]! + a) | 0;
    }
  } else {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const littleEndian = !bigEndian;
    for (let i = 0; i + 8 <= data.byteLength; i += 8) {
      a = (a + view.getInt32(i, littleEndian) + b) | 0;
      b = (b + view.getInt32(i + 4, littleEndian) + a) | 0;
    }
  }
  return [a >>> 0, b >>> 0];
}

/** Parses and verifies a 32-byte WAL header; throws WalFormatError when it is not one. */
export function parseWalHeader(buf: Uint8Array): WalHeader {
  if (buf.byteLength < WAL_HEADER_SIZE) {
    throw new WalFormatError(`wal header too short: ${buf.byteLength} bytes, expected ${WAL_HEADER_SIZE}`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, WAL_HEADER_SIZE);
  const magic = view.getUint32(0);
  if (magic !== WAL_MAGIC_LE && magic !== WAL_MAGIC_BE) {
    throw new WalFormatError(`invalid wal header magic: 0x${magic.toString(16).padStart(8, "0")}`);
  }
  const version = view.getUint32(4);
  if (version !== WAL_VERSION) {
    throw new WalFormatError(`unsupported wal version: ${version}`);
  }
  const pageSize = view.getUint32(8);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw new WalFormatError(`invalid wal page size: ${pageSize}`);
  }
  const header: WalHeader = {
    bigEndian: magic === WAL_MAGIC_BE,
    pageSize,
    checkpointSeq: view.getUint32(12),
    salt1: view.getUint32(16),
    salt2: view.getUint32(20),
    checksum1: view.getUint32(24),
    checksum2: view.getUint32(28),
  };
  const [c1, c2] = walChecksum(header.bigEndian, buf.subarray(0, 24), 0, 0);
  if (c1 !== header.checksum1 || c2 !== header.checksum2) {
    throw new WalFormatError("invalid wal header checksum");
  }
  return header;
}

/**
 * Walks the frames of one WAL round in order, verifying each against the header's salts
 * and the cumulative checksum. `accept` returns null at the end of the valid WAL (a frame
 * with another round's salt or a broken checksum chain), which is not an error by itself:
 * whether it is depends on whether the caller expected more frames there.
 */
export class WalFrameVerifier {
  readonly header: WalHeader;
  readonly frameSize: number;
  private s0: number;
  private s1: number;
  private nextOffset: number;

  /** Continue a round from `offset` with the checksum of the frame before it (default: a fresh round). */
  constructor(header: WalHeader, position?: { offset: number; checksum: readonly [number, number] }) {
    this.header = header;
    this.frameSize = walFrameSize(header.pageSize);
    this.nextOffset = position?.offset ?? WAL_HEADER_SIZE;
    [this.s0, this.s1] = position?.checksum ?? [header.checksum1, header.checksum2];
  }

  /** Offset the next frame must start at. */
  get offset(): number {
    return this.nextOffset;
  }

  get checksum(): readonly [number, number] {
    return [this.s0, this.s1];
  }

  accept(frame: Uint8Array): WalFrame | null {
    if (frame.byteLength !== this.frameSize) {
      throw new WalFormatError(`wal frame has ${frame.byteLength} bytes, expected ${this.frameSize}`);
    }
    const view = new DataView(frame.buffer, frame.byteOffset, WAL_FRAME_HEADER_SIZE);
    const { header } = this;
    if (view.getUint32(8) !== header.salt1 || view.getUint32(12) !== header.salt2) return null;
    let sums = walChecksum(header.bigEndian, frame.subarray(0, 8), this.s0, this.s1);
    sums = walChecksum(header.bigEndian, frame.subarray(WAL_FRAME_HEADER_SIZE), sums[0], sums[1]);
    if (sums[0] !== view.getUint32(16) || sums[1] !== view.getUint32(20)) return null;
    const result: WalFrame = {
      offset: this.nextOffset,
      pgno: view.getUint32(0),
      commit: view.getUint32(4),
      page: Buffer.from(frame.buffer, frame.byteOffset + WAL_FRAME_HEADER_SIZE, header.pageSize),
      checksum: sums,
    };
    [this.s0, this.s1] = sums;
    this.nextOffset += this.frameSize;
    return result;
  }
}

/** The valid frames of a WAL held in memory (header included), in order, up to the end of the valid prefix. */
export function* readWalFrames(wal: Uint8Array): Generator<WalFrame> {
  const verifier = new WalFrameVerifier(parseWalHeader(wal));
  for (let off = WAL_HEADER_SIZE; off + verifier.frameSize <= wal.byteLength; off += verifier.frameSize) {
    const frame = verifier.accept(wal.subarray(off, off + verifier.frameSize));
    if (!frame) return;
    yield frame;
  }
}
