// Litestream v0.3 restore (see docs/design/replication.md, "Restore"): pick a
// generation, its newest snapshot at or before the target, then every WAL segment from the
// snapshot's index up to the target; check the segments' names for gaps before
// downloading, verify every frame while applying, check the result with SQLite, and only
// then rename it into place (internal/durable-file.ts). Memory stays bounded by one LZ4
// block and one WAL frame.

import Database from "better-sqlite3";
import fs from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { writeFileAtomically } from "../internal/durable-file.js";
import { walSegmentKey } from "./replica/layout.js";
import { createLz4FrameDecoder } from "./lz4/frame.js";
import type { ReplicaClient } from "./replica/client.js";
import {
  latestGeneration, summarizeReplica, type ReplicaSummary, type SnapshotInfo, type WalSegmentInfo,
} from "./replica/summary.js";
import { WAL_HEADER_SIZE, WalFrameVerifier, parseWalHeader, type WalHeader } from "./sqlite/wal.js";

export { findLatestGeneration, summarizeReplica } from "./replica/summary.js";
export type { GenerationInfo, ReplicaSummary, SnapshotInfo, WalSegmentInfo } from "./replica/summary.js";

/** The replica holds no generation at all: nothing was ever replicated there. */
export class NoReplicaError extends Error {
  override name = "NoReplicaError";
  constructor(readonly where: string) {
    super(`no replica found at ${where}: it holds no generations`);
  }
}

export interface RestoreTarget {
  /** Restore this generation instead of the latest one. */
  readonly generation?: string;
  /** Stop after this WAL index (inclusive). */
  readonly index?: number;
  /** Restore the state as of this moment, by the objects' lastModified. */
  readonly timestamp?: Date;
}

export interface RestoreProgress {
  /** Uncompressed bytes processed so far (snapshot and WAL). */
  readonly bytes: number;
  readonly segments: number;
  readonly totalSegments: number;
}

export interface RestoreOptions extends RestoreTarget {
  readonly outputPath: string;
  /** PRAGMA integrity_check instead of the faster quick_check. */
  readonly integrityCheck?: boolean;
  /** Replace an existing database at outputPath (and drop its -wal and -shm). */
  readonly overwrite?: boolean;
  readonly onProgress?: (progress: RestoreProgress) => void;
}

export interface RestoreResult {
  readonly generation: string;
  /** The last WAL index applied (the snapshot's, when no segment was). */
  readonly index: number;
  /** Where the restored position ends inside that index's WAL. */
  readonly offset: number;
  /** Size of the restored database file. */
  readonly bytes: number;
}

interface RestorePlan {
  readonly generation: string;
  readonly snapshot: SnapshotInfo;
  /** In apply order: by index, then offset. */
  readonly segments: readonly WalSegmentInfo[];
}

function describeTarget(target: RestoreTarget): string {
  const parts = [];
  if (target.index !== undefined) parts.push(`index ${target.index.toString(16).padStart(8, "0")}`);
  if (target.timestamp !== undefined) parts.push(target.timestamp.toISOString());
  return parts.length > 0 ? ` at or before ${parts.join(" and ")}` : "";
}

/** Chooses what to restore, and checks from the names alone that the WAL has no gap. */
function planRestore(summary: ReplicaSummary, target: RestoreTarget = {}): RestorePlan {
  if (summary.generations.length === 0) throw new NoReplicaError(summary.description);
  const { index, timestamp } = target;
  const generation = target.generation === undefined
    ? latestGeneration(summary, timestamp)
    : summary.generations.find((g) => g.id === target.generation);
  if (!generation) {
    if (target.generation !== undefined) {
      throw new Error(`generation ${target.generation} not found in ${summary.description} (it has ${summary.generations.map((g) => g.id).join(", ")})`);
    }
    throw new Error(`${summary.description} holds nothing${describeTarget(target)}`);
  }
  const atOrBefore = (o: { lastModified: Date }) => timestamp === undefined || o.lastModified <= timestamp;
  const snapshot = generation.snapshots.filter((s) => (index === undefined || s.index <= index) && atOrBefore(s)).at(-1);
  if (!snapshot) throw new Error(`generation ${generation.id} in ${summary.description} has no snapshot${describeTarget(target)}`);

  const segments: WalSegmentInfo[] = [];
  for (const segment of generation.walSegments) {
    if (segment.index < snapshot.index) continue; // already in the snapshot
    if (index !== undefined && segment.index > index) break;
    if (!atOrBefore(segment)) break; // a point in time is a prefix of the WAL
    segments.push(segment);
  }
  let expectedIndex = snapshot.index;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const previous = segments[i - 1];
    if (previous && previous.index === segment.index) {
      if (previous.offset === segment.offset) throw new Error(`two WAL segments for the same position: ${previous.key} and ${segment.key}`);
      continue; // offsets within an index are checked as the segments are applied
    }
    if (segment.index !== expectedIndex || segment.offset !== 0) {
      const missingIndex = segment.index === expectedIndex ? segment.index : expectedIndex;
      throw new Error(`WAL gap in generation ${generation.id}: ${walSegmentKey(generation.id, missingIndex, 0)} is missing (the next segment present is ${segment.key})`);
    }
    expectedIndex++;
  }
  return { generation: generation.id, snapshot, segments };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** SQLite's page size from a database header (bytes 16-17; 1 means 65536), or undefined for an empty file. */
async function databasePageSize(handle: fs.FileHandle, snapshotKey: string): Promise<number | undefined> {
  const header = Buffer.alloc(100);
  const { bytesRead } = await handle.read(header, 0, 100, 0);
  if (bytesRead === 0) return undefined;
  if (bytesRead < 100 || header.toString("latin1", 0, 16) !== "SQLite format 3\0") {
    throw new Error(`${snapshotKey} is not an SQLite database`);
  }
  const raw = header.readUInt16BE(16);
  return raw === 1 ? 65536 : raw;
}

/**
 * Decoded WAL bytes a round may hold before its pages are written: the pages waiting are
 * views into the decoded blocks, so this bounds the memory whatever the database's size.
 */
const DEFAULT_APPLY_BATCH_BYTES = 32 << 20;
const EMPTY = Buffer.alloc(0);

/**
 * Applies the segments of one WAL index in order. Frames are verified against the round's
 * header and checksum chain, then only the newest version of each page is kept, and the
 * kept pages are written at the end of the round (or once a batch's worth of WAL has been
 * decoded) in runs of consecutive pages, one writev each: what SQLite's checkpoint of the
 * round as a -wal would write, without writing the WAL out first. The result is the
 * frames applied one by one (page at `(pgno-1) * pageSize`, the file truncated or
 * extended to the database size at each commit); a commit that shrinks the database
 * drops the pages waiting beyond its end, and a batch starts with the smallest size any of
 * its commits set. Each segment must end on a commit.
 */
class WalRoundApplier {
  private verifier: WalFrameVerifier | undefined;
  /** Offset inside the round's WAL where the next segment must start. */
  position = 0;
  /** The newest version of each page since the last write-out: views into decoded blocks. */
  private readonly pages = new Map<number, Buffer>();
  private highestPage = 0;
  /** Smallest and last database size (in pages) set by a commit since the last write-out. */
  private smallestCommit = Infinity;
  private lastCommit = 0;
  private batchBytes = 0;

  constructor(
    private readonly handle: fs.FileHandle,
    private pageSize: number | undefined,
    private readonly batchLimit = DEFAULT_APPLY_BATCH_BYTES,
  ) {}

  /** Returns the segment's uncompressed length. */
  async apply(client: ReplicaClient, segment: WalSegmentInfo): Promise<number> {
    if (segment.offset !== this.position) {
      if (segment.offset > this.position) {
        throw new Error(`WAL gap in generation ${segment.generation}: ${walSegmentKey(segment.generation, segment.index, this.position)} is missing (the next segment present is ${segment.key})`);
      }
      throw new Error(`${segment.key} overlaps the previous WAL segment, which ended at offset ${this.position}`);
    }
    let pending = EMPTY;
    let length = 0;
    let uncommittedFrames = 0;
    const consume = (chunk: Buffer) => {
      length += chunk.byteLength;
      this.batchBytes += chunk.byteLength;
      let i = 0;
      if (pending.byteLength > 0) {
        // Complete the header or frame cut by a block boundary: the one copy per block.
        const unit = this.verifier ? this.verifier.frameSize : WAL_HEADER_SIZE;
        i = Math.min(unit - pending.byteLength, chunk.byteLength);
        pending = Buffer.concat([pending, chunk.subarray(0, i)]);
        if (pending.byteLength < unit) return;
        const whole = pending;
        pending = EMPTY;
        if (!this.verifier) this.start(parseWalHeader(whole), segment.key);
        else if (this.acceptFrame(whole)) uncommittedFrames = 0;
        else uncommittedFrames++;
      }
      if (!this.verifier) {
        if (chunk.byteLength - i < WAL_HEADER_SIZE) {
          pending = Buffer.from(chunk.subarray(i));
          return;
        }
        this.start(parseWalHeader(chunk.subarray(i, i + WAL_HEADER_SIZE)), segment.key);
        i += WAL_HEADER_SIZE;
      }
      const { frameSize } = this.verifier!;
      for (; i + frameSize <= chunk.byteLength; i += frameSize) {
        if (this.acceptFrame(chunk.subarray(i, i + frameSize))) uncommittedFrames = 0;
        else uncommittedFrames++;
      }
      if (i < chunk.byteLength) pending = Buffer.from(chunk.subarray(i));
    };
    try {
      const body = await client.get(segment.key);
      /** Writes the batch out once it holds enough: the pages kept pin the blocks they are in. */
      const flushWhenFull = () => (this.batchBytes < this.batchLimit ? undefined : this.flush());
      await pipeline(body, createLz4FrameDecoder(), new Writable({
        write(chunk: Buffer, _encoding, callback) {
          let flushing: Promise<void> | undefined;
          try {
            consume(chunk);
            flushing = flushWhenFull();
          } catch (err) {
            callback(err as Error);
            return;
          }
          if (flushing) flushing.then(() => callback(), callback);
          else callback();
        },
      }));
      if (segment.offset === 0 && !this.verifier) throw new Error("shorter than a WAL header");
      if (pending.byteLength > 0) throw new Error(`ends inside a WAL frame (${pending.byteLength} bytes left over)`);
      if (uncommittedFrames > 0) throw new Error(`ends with ${uncommittedFrames} uncommitted WAL frame(s): a segment must end on a commit frame`);
    } catch (err) {
      const message = (err as Error).message;
      throw new Error(message.includes(segment.key) ? message : `${segment.key}: ${message}`, { cause: err });
    }
    this.position = segment.offset + length;
    return length;
  }

  /** Verifies one frame and keeps its page as the newest version; true for a commit frame. */
  private acceptFrame(bytes: Buffer): boolean {
    const verifier = this.verifier!;
    const at = verifier.offset;
    const frame = verifier.accept(bytes);
    if (!frame) throw new Error(`the WAL frame at offset ${at} fails verification (salt or checksum mismatch)`);
    this.pages.set(frame.pgno, frame.page);
    if (frame.pgno > this.highestPage) this.highestPage = frame.pgno;
    if (frame.commit === 0) return false;
    if (this.highestPage > frame.commit) {
      for (const pgno of this.pages.keys()) if (pgno > frame.commit) this.pages.delete(pgno);
      this.highestPage = frame.commit;
    }
    this.smallestCommit = Math.min(this.smallestCommit, frame.commit);
    this.lastCommit = frame.commit;
    return true;
  }

  /** Writes the pages kept so far, in runs of consecutive pages, after the batch's truncations. */
  async flush(): Promise<void> {
    const pageSize = this.verifier?.header.pageSize;
    if (pageSize === undefined) return;
    if (this.smallestCommit !== Infinity) {
      await this.handle.truncate(this.smallestCommit * pageSize);
      if (this.lastCommit !== this.smallestCommit) await this.handle.truncate(this.lastCommit * pageSize);
    }
    const pgnos = [...this.pages.keys()].sort((a, b) => a - b);
    for (let i = 0; i < pgnos.length;) {
      const first = pgnos[i]!;
      const run: Buffer[] = [];
      for (; i < pgnos.length && pgnos[i] === first + run.length; i++) run.push(this.pages.get(pgnos[i]!)!);
      await this.handle.writev(run, (first - 1) * pageSize);
    }
    this.pages.clear();
    this.highestPage = 0;
    this.smallestCommit = Infinity;
    this.lastCommit = 0;
    this.batchBytes = 0;
  }

  private start(header: WalHeader, key: string): void {
    if (this.pageSize !== undefined && header.pageSize !== this.pageSize) {
      throw new Error(`${key}: the WAL's page size ${header.pageSize} differs from the database's ${this.pageSize}`);
    }
    this.pageSize = header.pageSize;
    this.verifier = new WalFrameVerifier(header);
  }
}

/** Runs quick_check (or integrity_check) on the restored file; throws unless SQLite says "ok". */
function checkDatabase(file: string, full: boolean): void {
  const pragma = full ? "integrity_check" : "quick_check";
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true });
    const rows = db.pragma(pragma, { simple: false }) as Record<string, string>[];
    const problems = rows.map((row) => Object.values(row)[0]).filter((v) => v !== "ok");
    if (problems.length > 0) throw new Error(`PRAGMA ${pragma} reports: ${problems.slice(0, 5).join("; ")}`);
  } catch (err) {
    throw new Error(`the restored database fails its check: ${(err as Error).message}`, { cause: err });
  } finally {
    db?.close();
  }
}

/**
 * Restores a replica into `outputPath`. Rejects with NoReplicaError when the replica holds
 * no generation; with an Error naming the key for a gap, a missing or corrupt object.
 * The output appears whole or not at all.
 */
export async function restoreReplica(client: ReplicaClient, opts: RestoreOptions): Promise<RestoreResult> {
  const output = path.resolve(opts.outputPath);
  if (!opts.overwrite && (await exists(output))) {
    throw new Error(`${output} already exists: remove it first, or restore to another path`);
  }
  const plan = planRestore(await summarizeReplica(client), opts);
  await fs.mkdir(path.dirname(output), { recursive: true });
  let bytes = 0;
  let segmentsDone = 0;
  const report = () => opts.onProgress?.({ bytes, segments: segmentsDone, totalSegments: plan.segments.length });
  let index = plan.snapshot.index;
  let offset = 0;
  let size = 0;
  await writeFileAtomically(output, async (handle) => {
    try {
      await pipeline(await client.get(plan.snapshot.key), createLz4FrameDecoder(), new Writable({
        write(chunk: Buffer, _encoding, callback) {
          handle.write(chunk, 0, chunk.byteLength, bytes).then(() => {
            bytes += chunk.byteLength;
            report();
            callback();
          }, callback);
        },
      }));
    } catch (err) {
      const message = (err as Error).message;
      throw new Error(message.includes(plan.snapshot.key) ? message : `${plan.snapshot.key}: ${message}`, { cause: err });
    }
    const pageSize = await databasePageSize(handle, plan.snapshot.key);
    let round: WalRoundApplier | undefined;
    for (const segment of plan.segments) {
      if (!round || segment.index !== index) {
        await round?.flush();
        round = new WalRoundApplier(handle, pageSize);
        index = segment.index;
      }
      bytes += await round.apply(client, segment);
      offset = round.position;
      segmentsDone++;
      report();
    }
    await round?.flush();
  }, {
    beforeRename: async (temp) => {
      checkDatabase(temp, opts.integrityCheck ?? false);
      size = (await fs.stat(temp)).size;
      if (opts.overwrite) {
        // A -wal left next to the old database would be replayed over the restored one.
        await fs.rm(`${output}-wal`, { force: true });
        await fs.rm(`${output}-shm`, { force: true });
      }
    },
    // What SQLite may have made beside the file while checking it.
    leftovers: (temp) => [`${temp}-wal`, `${temp}-shm`, `${temp}-journal`],
  });
  return { generation: plan.generation, index, offset, bytes: size };
}
