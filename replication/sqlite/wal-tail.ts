// Reads what was committed to the `-wal` file beyond the position already shipped.
//
// Reading `-wal` with fs is safe while SQLite has the database open: SQLite takes no POSIX
// lock on it, so our open/close cannot drop one (unlike the main file or `-shm`).

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { parseWalHeader, WalFrameVerifier, WAL_HEADER_SIZE, type WalHeader } from "./wal.js";

/** Where shipping stands: round `index` of the WAL, `offset` bytes of it shipped. */
export interface WalPosition {
  /** The WAL round (Litestream's "index"): +1 every time the WAL restarts. */
  readonly index: number;
  /** The round's 32-byte header; null while the round has not been seen (no WAL yet). */
  readonly header: Buffer | null;
  /** Bytes of the round shipped: 0 (nothing, not even the header) or the end of a commit frame. */
  readonly offset: number;
  /** The cumulative checksum at `offset`: the seed for the next frame. */
  readonly checksum: readonly [number, number];
}

/** A run of committed frames: bytes [from.offset, to.offset) of one WAL round. */
export interface WalSegment {
  readonly from: WalPosition;
  readonly to: WalPosition;
  /** Starts with the WAL header when `from.offset` is 0; ends on a commit frame. */
  readonly data: Buffer;
  readonly pageSize: number;
  /** Database size in pages after the segment's last commit. */
  readonly pageCount: number;
  /** False when the read stopped at `maxBytes` with more committed frames after it. */
  readonly complete: boolean;
}

/**
 * The WAL no longer continues what was shipped: it was restarted, truncated or removed
 * behind our back, so frames may have been checkpointed and lost without being shipped.
 * Continuity is gone: replication must start a new generation.
 */
export class WalDiscontinuityError extends Error {
  override name = "WalDiscontinuityError";
}

export interface WalTailOptions {
  /**
   * Salt-1 that the next round's header will carry, when the caller knows that a restart
   * loses nothing: it checkpointed every frame of the current round itself after shipping
   * (or holding) all of them, or the current round is entirely in the generation's snapshot
   * and nothing of it was shipped (offset 0: the next round then takes over its index).
   * Null otherwise: any restart is lost continuity.
   */
  readonly nextRoundSalt1: number | null;
  /** Stop at the last commit frame within this many bytes (a single larger transaction is read whole). */
  readonly maxBytes: number;
}

export function walPathOf(dbPath: string): string {
  return `${dbPath}-wal`;
}

/** Frames are read this many at a time. */
const READ_CHUNK_FRAMES = 256;

export function startOfRound(index: number, header: Buffer): WalPosition {
  const parsed = parseWalHeader(header);
  return { index, header, offset: 0, checksum: [parsed.checksum1, parsed.checksum2] };
}

function readFully(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** The current WAL header (bytes and parsed), or null when `-wal` is missing or shorter than a header. */
export function readWalHeader(walPath: string): { bytes: Buffer; header: WalHeader } | null {
  let fd: number;
  try {
    fd = openSync(walPath, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    const bytes = readFully(fd, WAL_HEADER_SIZE, 0);
    return bytes.length < WAL_HEADER_SIZE ? null : { bytes, header: parseWalHeader(bytes) };
  } finally {
    closeSync(fd);
  }
}

/**
 * The committed frames after `from`, verified (salts and the checksum chain continued from
 * `from.checksum`), up to the last commit frame; null when nothing new is committed.
 * Throws WalDiscontinuityError when the WAL does not continue `from` (see the error).
 */
export function readWalTail(walPath: string, from: WalPosition, options: WalTailOptions): WalSegment | null {
  let fd: number;
  try {
    fd = openSync(walPath, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    return noWal(walPath, from, options);
  }
  try {
    const size = fstatSync(fd).size;
    const headerBytes = readFully(fd, WAL_HEADER_SIZE, 0);
    if (headerBytes.length < WAL_HEADER_SIZE) return noWal(walPath, from, options);
    const header = parseWalHeader(headerBytes);

    let start: WalPosition;
    if (from.header === null) {
      // Nothing of this round seen yet: the WAL in place is this round, from its beginning.
      start = startOfRound(from.index, headerBytes);
    } else if (headerBytes.equals(from.header)) {
      if (size < from.offset) {
        throw new WalDiscontinuityError(`${walPath} is ${size} bytes, shorter than the ${from.offset} bytes already shipped of WAL index ${from.index}`);
      }
      start = from;
    } else if (options.nextRoundSalt1 !== null && header.salt1 === options.nextRoundSalt1) {
      start = startOfRound(from.offset === 0 ? from.index : from.index + 1, headerBytes);
    } else {
      throw new WalDiscontinuityError(
        `${walPath} was restarted by another connection (salt-1 ${hex(parseWalHeader(from.header).salt1)} → ${hex(header.salt1)}) after ${from.offset} bytes of WAL index ${from.index} were shipped`,
      );
    }
    return readCommittedFrames(fd, size, header, start, options.maxBytes);
  } finally {
    closeSync(fd);
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function noWal(walPath: string, from: WalPosition, options: WalTailOptions): null {
  // Without a round in progress, or right after our own full checkpoint (a TRUNCATE then
  // loses nothing: every frame was shipped), an absent WAL just means nothing new.
  if (from.header === null || options.nextRoundSalt1 !== null) return null;
  throw new WalDiscontinuityError(`${walPath} was truncated or removed after ${from.offset} bytes of WAL index ${from.index} were shipped`);
}

function readCommittedFrames(fd: number, size: number, header: WalHeader, start: WalPosition, maxBytes: number): WalSegment | null {
  const firstFrame = Math.max(start.offset, WAL_HEADER_SIZE);
  const verifier = new WalFrameVerifier(header, { offset: firstFrame, checksum: start.checksum });
  const { frameSize } = verifier;
  const chunks: Buffer[] = start.offset === 0 ? [start.header!] : [];
  let commitEnd = -1;
  let commitChecksum: readonly [number, number] = start.checksum;
  let pageCount = 0;
  let complete = true;
  scan: for (let off = firstFrame; off + frameSize <= size; ) {
    const frameCount = Math.min(READ_CHUNK_FRAMES, Math.floor((size - off) / frameSize));
    const chunk = readFully(fd, frameCount * frameSize, off);
    for (let i = 0; i + frameSize <= chunk.length; i += frameSize) {
      const frame = verifier.accept(chunk.subarray(i, i + frameSize));
      if (!frame) {
        chunks.push(chunk.subarray(0, i));
        break scan;
      }
      if (frame.commit !== 0) {
        if (commitEnd >= 0 && verifier.offset - start.offset > maxBytes) {
          complete = false;
          chunks.push(chunk.subarray(0, i + frameSize));
          break scan;
        }
        commitEnd = verifier.offset;
        commitChecksum = frame.checksum;
        pageCount = frame.commit;
      }
    }
    chunks.push(chunk);
    off += chunk.length;
    if (chunk.length < frameCount * frameSize) break;
  }
  if (commitEnd < 0) return null;
  const data = Buffer.concat(chunks).subarray(0, commitEnd - start.offset);
  return {
    from: start,
    to: { index: start.index, header: start.header, offset: commitEnd, checksum: commitChecksum },
    data,
    pageSize: header.pageSize,
    pageCount,
    complete,
  };
}
