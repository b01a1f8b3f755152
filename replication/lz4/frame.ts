// The LZ4 frame format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md):
// what the `lz4` command-line tool and Litestream write, and the format of every replica
// object.
//
// Whole objects (WAL segments) are compressed by lz4-napi's compressFrame, in native code
// on the libuv pool (lz4FrameEncodeAsync). What must stream -- a snapshot is the whole database and
// must stay ONE frame, because Litestream v0.3 reads every object with pierrec/lz4 v4.1.18,
// whose Reader returns io.EOF at the first frame's end mark (after checking its content
// checksum) and never looks at the bytes after it, so a second frame would be dropped
// without an error -- has no library here: lz4-napi only takes and returns whole buffers,
// and the `lz4` package is an unmaintained node-gyp build. So the frame container below is
// ours and streams, bounded by one block (at most 4 MiB), while each independent block is
// compressed and decompressed by lz4-napi's native code on the calling thread; only linked
// blocks (`lz4 -BD`), which need the previous block's output as a dictionary, use the
// JavaScript block decoder.

import { compressSync, compressFrame, compressFrameSync, decompressFrameSync } from "lz4-napi";
import { Transform, type TransformCallback } from "node:stream";
import { decompressBlock } from "./block.js";
import { Xxh32, xxh32 } from "./xxh32.js";

const FRAME_MAGIC = 0x184d2204;
/** Skippable frames have magics 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE_MAGIC_BASE = 0x184d2a50;
const FLG_VERSION = 0x40;
const FLG_BLOCK_INDEPENDENT = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;
const BLOCK_UNCOMPRESSED = 0x80000000;
const BLOCK_MAX_SIZES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };
/** Linked blocks may refer back this far into the previous blocks' output. */
const LINKED_WINDOW = 64 << 10;

const ENCODER_BLOCK_ID = 7;
const ENCODER_BLOCK_SIZE = BLOCK_MAX_SIZES[ENCODER_BLOCK_ID]!;

export class Lz4FormatError extends Error {
  override name = "Lz4FormatError";
}

/** Bytes received but not consumed yet, kept as the chunks they came in. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.byteLength;
  }

  /** The next `n` bytes (n ≤ length), removed from the queue. */
  take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first && first.byteLength >= n) {
      out = first.subarray(0, n);
      if (first.byteLength === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.chunks[0]!;
        const used = Math.min(chunk.byteLength, n - filled);
        chunk.copy(out, filled, 0, used);
        filled += used;
        if (used === chunk.byteLength) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(used);
      }
    }
    this.length -= n;
    return out;
  }

  peekByte(i: number): number {
    for (const chunk of this.chunks) {
      if (i < chunk.byteLength) return chunk[i]!;
      i -= chunk.byteLength;
    }
    throw new RangeError("peek past the end of the queue");
  }
}

type Emit = (chunk: Buffer) => void;

/** Block-size id → the descriptor of a one-block frame around an independent block (its HC included). */
const ONE_BLOCK_HEADERS = new Map<number, Buffer>();
const END_MARK = Buffer.alloc(4);

/**
 * An independent compressed block as a frame of its own (no checksums: the caller checks
 * the real frame's), which is the unit lz4-napi decodes natively.
 */
function oneBlockFrame(bd: number, word: Buffer, block: Buffer): Buffer {
  let header = ONE_BLOCK_HEADERS.get(bd);
  if (!header) {
    header = Buffer.alloc(7);
    header.writeUInt32LE(FRAME_MAGIC, 0);
    header[4] = FLG_VERSION | FLG_BLOCK_INDEPENDENT;
    header[5] = bd;
    header[6] = (xxh32(header.subarray(4, 6)) >>> 8) & 0xff;
    ONE_BLOCK_HEADERS.set(bd, header);
  }
  return Buffer.concat([header, word, block, END_MARK], 7 + 4 + block.byteLength + 4);
}

/**
 * Native block decoding, on the calling thread. Not decompressFrame on the libuv pool: its
 * 4 MiB outputs, allocated and freed on the pool's threads, stay in those threads' malloc
 * arenas, and a streamed 200 MB snapshot peaked at 300 MB RSS that way against 100 MB here.
 */
type NativeDecode = (frame: Buffer) => Buffer;

interface FrameDescriptor {
  readonly bd: number;
  readonly blockMaxSize: number;
  readonly linked: boolean;
  readonly blockChecksum: boolean;
  readonly contentChecksum: boolean;
  readonly contentSize: bigint | undefined;
}

/** The incremental decoder both the stream and the one-shot function use. */
class FrameDecoder {
  constructor(private readonly nativeDecode: NativeDecode) {}

  private readonly input = new ByteQueue();
  /** Offset of the next unread byte in the whole input, for error messages. */
  private position = 0;
  private state: "magic" | "descriptor" | "blockSize" | "block" | "contentChecksum" | "skip" = "magic";
  private frame: FrameDescriptor | undefined;
  private blockSize = 0;
  private blockWord: Buffer = Buffer.alloc(4);
  private blockCompressed = true;
  private skipRemaining = 0;
  private contentHash = new Xxh32();
  private contentLength = 0n;
  private framesDecoded = 0;
  /** Output buffer: the linked-block window (the last 64 KiB of output) followed by room for one block. */
  private output: Buffer | undefined;
  private windowLength = 0;

  push(chunk: Buffer, emit: Emit): void {
    this.input.push(chunk);
    while (this.step(emit));
  }

  finish(): void {
    if (this.state === "magic" && this.input.length === 0) {
      if (this.framesDecoded === 0) throw new Lz4FormatError("not an LZ4 frame: the input is empty");
      return;
    }
    throw new Lz4FormatError(`truncated LZ4 frame: the input ends at byte ${this.position + this.input.length} in the middle of a ${this.describeState()}`);
  }

  private describeState(): string {
    switch (this.state) {
      case "magic": return "frame magic number";
      case "descriptor": return "frame descriptor";
      case "blockSize": return "block header";
      case "block": return "block";
      case "contentChecksum": return "content checksum";
      case "skip": return "skippable frame";
    }
  }

  private take(n: number): Buffer {
    this.position += n;
    return this.input.take(n);
  }

  /** Advances by one unit of the format; false when more input is needed. */
  private step(emit: Emit): boolean {
    switch (this.state) {
      case "magic": return this.readMagic();
      case "descriptor": return this.readDescriptor();
      case "blockSize": return this.readBlockSize();
      case "block": return this.readBlock(emit);
      case "contentChecksum": return this.readContentChecksum();
      case "skip": {
        if (this.input.length === 0) return false;
        const n = Math.min(this.skipRemaining, this.input.length);
        this.take(n);
        this.skipRemaining -= n;
        if (this.skipRemaining === 0) this.state = "magic";
        return true;
      }
    }
  }

  private readMagic(): boolean {
    if (this.input.length < 4) return false;
    if (this.input.length < 8 && this.isSkippable()) return false;
    const at = this.position;
    const magic = this.take(4).readUInt32LE(0);
    if (magic === FRAME_MAGIC) {
      this.state = "descriptor";
    } else if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC_BASE) {
      this.skipRemaining = this.take(4).readUInt32LE(0);
      this.state = this.skipRemaining > 0 ? "skip" : "magic";
    } else {
      throw new Lz4FormatError(`not an LZ4 frame: bad magic number 0x${magic.toString(16).padStart(8, "0")} at byte ${at} (expected 04 22 4d 18)`);
    }
    return true;
  }

  private isSkippable(): boolean {
    const top = this.input.peekByte(3) === 0x18 && this.input.peekByte(2) === 0x4d && this.input.peekByte(1) === 0x2a;
    return top && (this.input.peekByte(0) & 0xf0) === 0x50;
  }

  private readDescriptor(): boolean {
    if (this.input.length < 2) return false;
    const flg = this.input.peekByte(0);
    const length = 3 + (flg & FLG_CONTENT_SIZE ? 8 : 0) + (flg & FLG_DICT_ID ? 4 : 0);
    if (this.input.length < length) return false;
    const at = this.position;
    const descriptor = this.take(length);
    const bd = descriptor[1]!;
    if ((flg & 0xc0) !== FLG_VERSION) throw new Lz4FormatError(`unsupported LZ4 frame version ${flg >>> 6} at byte ${at}`);
    if (flg & 0x02 || bd & 0x8f) throw new Lz4FormatError(`invalid LZ4 frame descriptor at byte ${at}: reserved bits are set`);
    const blockMaxSize = BLOCK_MAX_SIZES[(bd >>> 4) & 7];
    if (blockMaxSize === undefined) throw new Lz4FormatError(`invalid LZ4 block size id ${(bd >>> 4) & 7} at byte ${at}`);
    const expectedHc = (xxh32(descriptor.subarray(0, length - 1)) >>> 8) & 0xff;
    if (descriptor[length - 1] !== expectedHc) throw new Lz4FormatError(`LZ4 frame descriptor checksum mismatch at byte ${at}`);
    if (flg & FLG_DICT_ID) throw new Lz4FormatError("LZ4 frames that need a dictionary are not supported");
    this.frame = {
      bd,
      blockMaxSize,
      linked: (flg & FLG_BLOCK_INDEPENDENT) === 0,
      blockChecksum: (flg & FLG_BLOCK_CHECKSUM) !== 0,
      contentChecksum: (flg & FLG_CONTENT_CHECKSUM) !== 0,
      contentSize: flg & FLG_CONTENT_SIZE ? descriptor.readBigUInt64LE(2) : undefined,
    };
    this.contentHash = new Xxh32();
    this.contentLength = 0n;
    this.windowLength = 0;
    this.state = "blockSize";
    return true;
  }

  private readBlockSize(): boolean {
    if (this.input.length < 4) return false;
    const at = this.position;
    this.blockWord = this.take(4);
    const word = this.blockWord.readUInt32LE(0);
    const frame = this.frame!;
    if (word === 0) {
      this.endFrame();
      return true;
    }
    this.blockCompressed = (word & BLOCK_UNCOMPRESSED) === 0;
    this.blockSize = (word & ~BLOCK_UNCOMPRESSED) >>> 0;
    if (this.blockSize > frame.blockMaxSize) {
      throw new Lz4FormatError(`LZ4 block at byte ${at} is ${this.blockSize} bytes, more than the frame's block size ${frame.blockMaxSize}`);
    }
    this.state = "block";
    return true;
  }

  private readBlock(emit: Emit): boolean {
    const frame = this.frame!;
    const needed = this.blockSize + (frame.blockChecksum ? 4 : 0);
    if (this.input.length < needed) return false;
    const at = this.position;
    const block = this.take(this.blockSize);
    if (frame.blockChecksum) {
      const stored = this.take(4).readUInt32LE(0);
      if (stored !== xxh32(block)) throw new Lz4FormatError(`LZ4 block checksum mismatch in the block at byte ${at}`);
    }
    this.state = "blockSize";
    if (!this.blockCompressed) {
      // The block's bytes may belong to a chunk its producer reuses.
      this.emitBlock(frame.linked ? this.linkedOutput(block, at) : Buffer.from(block), emit);
      return true;
    }
    if (frame.linked) {
      this.emitBlock(this.linkedOutput(block, at), emit);
      return true;
    }
    const fail = (err: unknown): never => {
      // lz4_flex's errors are terse (OffsetOutOfBounds); the JavaScript decoder says which
      // offset or length is wrong, and corruption is rare enough to decode the block twice.
      this.linkedOutput(block, at);
      throw new Lz4FormatError(`corrupt LZ4 block at byte ${at}: ${(err as Error).message}`);
    };
    let decoded: Buffer;
    try {
      decoded = this.nativeDecode(oneBlockFrame(frame.bd, this.blockWord, block));
    } catch (err) {
      return fail(err);
    }
    this.emitBlock(decoded, emit);
    return true;
  }

  private emitBlock(decoded: Buffer, emit: Emit): void {
    const frame = this.frame!;
    if (frame.contentChecksum) this.contentHash.update(decoded);
    this.contentLength += BigInt(decoded.byteLength);
    emit(decoded);
  }

  /**
   * Decodes a block in JavaScript after the previous blocks' last 64 KiB, which a linked
   * block may refer to (or copies a stored one); throws Lz4FormatError on a corrupt block.
   */
  private linkedOutput(block: Buffer, at: number): Buffer {
    const frame = this.frame!;
    const start = this.windowLength;
    // A compressed byte expands to at most 256 bytes, so small blocks need no 4 MiB buffer.
    const limit = start + Math.min(frame.blockMaxSize, this.blockCompressed ? block.byteLength * 256 : block.byteLength);
    const output = this.outputWithRoom(limit);
    let end: number;
    if (this.blockCompressed) {
      try {
        end = decompressBlock(block, output, start, limit, 0);
      } catch (err) {
        throw new Lz4FormatError(`corrupt LZ4 block at byte ${at}: ${(err as Error).message}`);
      }
    } else {
      block.copy(output, start);
      end = start + block.byteLength;
    }
    const decoded = Buffer.from(output.subarray(start, end));
    this.keepWindow(end);
    return decoded;
  }

  private outputWithRoom(size: number): Buffer {
    if (this.output && this.output.byteLength >= size) return this.output;
    const grown = Buffer.allocUnsafe(size);
    this.output?.copy(grown, 0, 0, this.windowLength);
    this.output = grown;
    return grown;
  }

  /** Moves the last 64 KiB of output to the front of the buffer, for the next linked block. */
  private keepWindow(end: number): void {
    const keep = Math.min(end, LINKED_WINDOW);
    this.output!.copyWithin(0, end - keep, end);
    this.windowLength = keep;
  }

  private endFrame(): void {
    const frame = this.frame!;
    if (frame.contentSize !== undefined && frame.contentSize !== this.contentLength) {
      throw new Lz4FormatError(`LZ4 frame content size mismatch: the header says ${frame.contentSize} bytes, the blocks hold ${this.contentLength}`);
    }
    if (frame.contentChecksum) {
      this.state = "contentChecksum";
    } else {
      this.state = "magic";
      this.framesDecoded++;
    }
  }

  private readContentChecksum(): boolean {
    if (this.input.length < 4) return false;
    const stored = this.take(4).readUInt32LE(0);
    if (stored !== this.contentHash.digest()) throw new Lz4FormatError("LZ4 content checksum mismatch: the decoded data is not what was compressed");
    this.state = "magic";
    this.framesDecoded++;
    return true;
  }
}

/** The frame header the encoders write: independent 4 MiB blocks and a content checksum, as `lz4` writes by default. */
const ENCODER_OPTIONS = { contentChecksum: true, blockChecksums: false };

/**
 * The streaming encoder (snapshots): our frame around blocks compressed natively, a content
 * checksum over everything. Memory: one pending block. On the calling thread (about 5 ms a
 * 4 MiB block) rather than with lz4-napi's compress on the libuv pool: blocks allocated on
 * the pool's threads stay in their malloc arenas, and a 200 MB snapshot peaked at 182 MB
 * RSS that way against 99 MB here.
 */
class FrameEncoder {
  private readonly contentHash = new Xxh32();
  private pending: Buffer | undefined;
  private pendingLength = 0;
  private started = false;

  push(data: Uint8Array, emit: Emit): void {
    this.start(emit);
    let i = 0;
    if (this.pendingLength > 0) {
      i = Math.min(data.byteLength, ENCODER_BLOCK_SIZE - this.pendingLength);
      this.pending!.set(data.subarray(0, i), this.pendingLength);
      this.pendingLength += i;
      if (this.pendingLength < ENCODER_BLOCK_SIZE) return;
      this.writeBlock(this.pending!, emit);
      this.pendingLength = 0;
    }
    // Whole blocks go straight from the input, without a copy into `pending`.
    for (; i + ENCODER_BLOCK_SIZE <= data.byteLength; i += ENCODER_BLOCK_SIZE) {
      this.writeBlock(data.subarray(i, i + ENCODER_BLOCK_SIZE), emit);
    }
    if (i < data.byteLength) {
      this.pending ??= Buffer.allocUnsafe(ENCODER_BLOCK_SIZE);
      this.pending.set(data.subarray(i), 0);
      this.pendingLength = data.byteLength - i;
    }
  }

  finish(emit: Emit): void {
    this.start(emit);
    if (this.pendingLength > 0) this.writeBlock(this.pending!.subarray(0, this.pendingLength), emit);
    this.pendingLength = 0;
    const end = Buffer.allocUnsafe(8);
    end.writeUInt32LE(0, 0);
    end.writeUInt32LE(this.contentHash.digest(), 4);
    emit(end);
  }

  private start(emit: Emit): void {
    if (this.started) return;
    this.started = true;
    const header = Buffer.alloc(7);
    header.writeUInt32LE(FRAME_MAGIC, 0);
    header[4] = FLG_VERSION | FLG_BLOCK_INDEPENDENT | FLG_CONTENT_CHECKSUM;
    header[5] = ENCODER_BLOCK_ID << 4;
    header[6] = (xxh32(header.subarray(4, 6)) >>> 8) & 0xff;
    emit(header);
  }

  private writeBlock(block: Uint8Array, emit: Emit): void {
    this.contentHash.update(block);
    // lz4-napi's block output is the block behind a 4-byte uncompressed length, where the
    // frame wants the compressed length: the same 4 bytes take the block header's place.
    const out = compressSync(toBuffer(block));
    const compressedLength = out.byteLength - 4;
    if (compressedLength < block.byteLength) {
      out.writeUInt32LE(compressedLength, 0);
      emit(out);
    } else {
      const stored = Buffer.allocUnsafe(4 + block.byteLength);
      stored.writeUInt32LE((block.byteLength | BLOCK_UNCOMPRESSED) >>> 0, 0);
      stored.set(block, 4);
      emit(stored);
    }
  }
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Compresses `data` into one LZ4 frame, natively, on the calling thread. */
export function lz4FrameEncode(data: Uint8Array): Buffer {
  return compressFrameSync(toBuffer(data), ENCODER_OPTIONS);
}

/**
 * Compresses `data` into one LZ4 frame on the libuv pool, off the event loop. `data` must
 * not change until the promise settles: the native side reads it in place.
 */
export function lz4FrameEncodeAsync(data: Uint8Array): Promise<Buffer> {
  return compressFrame(data, ENCODER_OPTIONS);
}

/** Decompresses one or more concatenated LZ4 frames; throws Lz4FormatError on anything invalid. */
export function lz4FrameDecode(data: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  const decoder = new FrameDecoder(decompressFrameSync);
  decoder.push(toBuffer(data), (chunk) => parts.push(chunk));
  decoder.finish();
  return Buffer.concat(parts);
}

export function createLz4FrameEncoder(): Transform {
  const encoder = new FrameEncoder();
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      encoder.push(chunk, (out) => this.push(out));
      callback();
    },
    flush(callback: TransformCallback) {
      encoder.finish((out) => this.push(out));
      callback();
    },
  });
}

/** Decodes a stream of LZ4 frames; each independent block is decoded natively. */
export function createLz4FrameDecoder(): Transform {
  const decoder = new FrameDecoder(decompressFrameSync);
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        decoder.push(chunk, (out) => this.push(out));
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        decoder.finish();
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}
