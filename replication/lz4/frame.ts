// The LZ4 frame format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md):
// what the `lz4` command-line tool and Litestream write, and the format of every replica
// object. Encoding and decoding are incremental so that memory stays bounded by one block
// (at most 4 MiB) whatever the size of the data.

import { Transform, type TransformCallback } from "node:stream";
import { Lz4BlockCompressor, compressBound, decompressBlock } from "./block.js";
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

interface FrameDescriptor {
  readonly blockMaxSize: number;
  readonly linked: boolean;
  readonly blockChecksum: boolean;
  readonly contentChecksum: boolean;
  readonly contentSize: bigint | undefined;
}

/** The incremental decoder both the stream and the one-shot function use. */
class FrameDecoder {
  private readonly input = new ByteQueue();
  /** Offset of the next unread byte in the whole input, for error messages. */
  private position = 0;
  private state: "magic" | "descriptor" | "blockSize" | "block" | "contentChecksum" | "skip" = "magic";
  private frame: FrameDescriptor | undefined;
  private blockSize = 0;
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
    const word = this.take(4).readUInt32LE(0);
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
    const start = this.windowLength;
    // A compressed byte expands to at most 256 bytes, so small blocks need no 4 MiB buffer.
    const limit = start + Math.min(frame.blockMaxSize, this.blockCompressed ? block.byteLength * 256 : block.byteLength);
    const output = this.outputWithRoom(limit);
    let end: number;
    if (this.blockCompressed) {
      try {
        end = decompressBlock(block, output, start, limit, frame.linked ? 0 : start);
      } catch (err) {
        throw new Lz4FormatError(`corrupt LZ4 block at byte ${at}: ${(err as Error).message}`);
      }
    } else {
      block.copy(output, start);
      end = start + block.byteLength;
    }
    const decoded = Buffer.from(output.subarray(start, end));
    if (frame.contentChecksum) this.contentHash.update(decoded);
    this.contentLength += BigInt(decoded.byteLength);
    if (frame.linked) this.keepWindow(end);
    emit(decoded);
    this.state = "blockSize";
    return true;
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

/** The incremental encoder: independent 4 MiB blocks and a content checksum. */
class FrameEncoder {
  private readonly compressor = new Lz4BlockCompressor();
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
    const out = Buffer.allocUnsafe(4 + compressBound(block.byteLength));
    const compressedLength = this.compressor.compress(block, out.subarray(4));
    if (compressedLength > 0) {
      out.writeUInt32LE(compressedLength, 0);
      emit(out.subarray(0, 4 + compressedLength));
    } else {
      out.writeUInt32LE((block.byteLength | BLOCK_UNCOMPRESSED) >>> 0, 0);
      out.set(block, 4);
      emit(out.subarray(0, 4 + block.byteLength));
    }
  }
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Compresses `data` into one LZ4 frame. */
export function lz4FrameEncode(data: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  const encoder = new FrameEncoder();
  const emit = (chunk: Buffer) => parts.push(chunk);
  encoder.push(data, emit);
  encoder.finish(emit);
  return Buffer.concat(parts);
}

/** Decompresses one or more concatenated LZ4 frames; throws Lz4FormatError on anything invalid. */
export function lz4FrameDecode(data: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  const decoder = new FrameDecoder();
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

export function createLz4FrameDecoder(): Transform {
  const decoder = new FrameDecoder();
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
