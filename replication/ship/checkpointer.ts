// Checkpoints of a replicated database. They belong to the replicator alone (the app
// runs with wal_autocheckpoint=0), and only shipped frames may be checkpointed: a
// checkpoint that backfills every frame lets the next write restart the WAL over them.
//
// The rule this file exists for: the read that ends a sync and a full checkpoint run in
// one synchronous step, with no await between them, so that no write of this process can
// slip in (better-sqlite3 is synchronous, and the app writes from this thread). So
// checkpoint() is synchronous, and its one caller, Replicator.commitUpload, calls it in the
// same synchronous step as the position advance after a successful upload. See
// docs/design/replication.md ("any checkpoint that backfills every frame").

import { statSync } from "node:fs";
import type Database from "better-sqlite3";
import type { Logger } from "pino";
import type { ReplicationCounters } from "../counters.js";
import { parseWalHeader, walFrameSize, WAL_HEADER_SIZE } from "../sqlite/wal.js";
import type { WalPin } from "../sqlite/wal-pin.js";
import { readWalTail, type WalPosition, type WalSegment } from "../sqlite/wal-tail.js";

/** Checkpoint once the shipped part of the WAL round reaches this many frames (Litestream's minimum too). */
export const DEFAULT_CHECKPOINT_THRESHOLD_PAGES = 1000;
/** A `-wal` file this large is truncated (TRUNCATE checkpoint) once everything in it is shipped. */
export const DEFAULT_TRUNCATE_WAL_BYTES = 64 << 20;

/**
 * A WAL restart that loses nothing (see readWalTail's nextRoundSalt1): every frame of round
 * `header` up to `end` is shipped, held or in the snapshot, and a restart is expected. It
 * lapses when that round turns out to go on past `end`.
 */
export interface ExpectedRestart {
  readonly header: Buffer;
  readonly end: number;
  readonly salt1: number;
}

export function expectRestartAfter(header: Buffer, end: number): ExpectedRestart {
  return { header, end, salt1: (parseWalHeader(header).salt1 + 1) >>> 0 };
}

/** What a full checkpoint leaves the shipper to do. */
export interface FullCheckpoint {
  /** Frames committed while the upload was in flight, read right before the checkpoint: the WAL may no longer have them. */
  readonly held: WalSegment | null;
  readonly expectedRestart: ExpectedRestart;
}

/** A row of `PRAGMA wal_checkpoint`: busy 1 when it could not finish; frames in the WAL; frames backfilled. */
interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface CheckpointerOptions {
  /** The replicator's own connection, with a short busy timeout. */
  readonly db: Database.Database;
  readonly walPath: string;
  /** Present when other processes write the database (see WalPin). */
  readonly pin: WalPin | null;
  readonly thresholdPages?: number;
  readonly truncateWalBytes?: number;
  /** The most WAL a checkpoint may hold in memory (the largest segment). */
  readonly maxHeldBytes: number;
  /** True while a snapshot holds its read transaction: TRUNCATE would wait on it. */
  readonly snapshotReading: () => boolean;
  readonly counters: ReplicationCounters;
  readonly logger: Logger;
}

export class Checkpointer {
  private readonly thresholdPages: number;
  private readonly truncateWalBytes: number;

  constructor(private readonly options: CheckpointerOptions) {
    this.thresholdPages = options.thresholdPages ?? DEFAULT_CHECKPOINT_THRESHOLD_PAGES;
    this.truncateWalBytes = options.truncateWalBytes ?? DEFAULT_TRUNCATE_WAL_BYTES;
  }

  /**
   * Right after the replica received everything up to `position`, in the same synchronous
   * step: checkpoints when the round has grown past the threshold. Returns what the
   * shipper must hold when the checkpoint was full, null otherwise.
   *
   * Why this is safe in the server (no pin): first it reads the frames committed while the
   * upload was in flight and keeps them in memory (`held`: what one upload's duration of
   * writes produced); then it checkpoints PASSIVE (never waits on readers or writers:
   * writers are never stalled). If that backfilled every frame and the WAL holds exactly
   * the frames we know of, the next write restarts the WAL with salt-1 + 1, and that
   * restart is the next index: every frame of the old round is in the replica or in
   * `held`. Anything else (a partial checkpoint, frames we have not seen) sets no
   * expectation, so a later restart counts as lost continuity. During an outage no upload
   * succeeds, so nothing is checkpointed and the WAL keeps every unshipped frame.
   *
   * With a pin (other processes write): the pin is first moved to the WAL's current end,
   * then the frames are read, so the checkpoint cannot backfill anything we have not read
   * and nobody can restart the WAL while it runs. After a full checkpoint the pin must be
   * renewed for the restart to be possible at all; that is done under the write lock for
   * an instant, so that no commit lands between the old pin and the new one (see WalPin).
   *
   * A PASSIVE checkpoint never shrinks `-wal`: it keeps its largest size (after an outage,
   * that of everything written during it). So once a full checkpoint left nothing in the
   * WAL that is not in the replica or `held`, a large file is truncated (see truncateWal).
   */
  checkpoint(position: WalPosition): FullCheckpoint | null {
    const { db, walPath, pin, counters, logger } = this.options;
    if (!position.header) return null;
    const frameSize = walFrameSize(parseWalHeader(position.header).pageSize);
    if ((position.offset - WAL_HEADER_SIZE) / frameSize < this.thresholdPages) return null;
    pin?.renew();
    let tail: WalSegment | null;
    try {
      tail = readWalTail(walPath, position, { nextRoundSalt1: null, maxBytes: this.options.maxHeldBytes });
    } catch {
      return null; // the next sync meets the same problem and handles it
    }
    if (tail && !tail.complete) return null; // too much to hold in memory: checkpoint after the next sync
    const known = tail?.to ?? position;
    const knownFrames = (known.offset - WAL_HEADER_SIZE) / frameSize;
    let result: CheckpointResult | undefined;
    try {
      result = (db.pragma("wal_checkpoint(PASSIVE)") as CheckpointResult[])[0];
      counters.checkpoints.passive += 1;
    } catch (err) {
      logger.debug({ err: (err as Error).message }, "replication: checkpoint skipped");
    }
    const full = result !== undefined && result.busy === 0 && result.log === knownFrames && result.checkpointed === result.log;
    if (!full || !(pin?.renewAfterCheckpoint(db, known) ?? true)) return null;
    this.truncateWal();
    return { held: tail, expectedRestart: expectRestartAfter(position.header, known.offset) };
  }

  /**
   * Right after a full checkpoint of ours, in the same synchronous step: TRUNCATE only has
   * the WAL's restart left to do, and it restarts it the way the next write would have
   * (salt-1 + 1, which the expected restart awaits), then truncates the file to 0 bytes
   * (which readWalTail reads as "nothing new" while a restart is expected). TRUNCATE waits
   * on readers of the WAL through the busy handler, blocking the event loop: so not while a
   * snapshot holds its read transaction, nor with a pin (a reader by design). If it is busy
   * all the same, the PASSIVE checkpoint stands and the file is truncated another time.
   */
  private truncateWal(): void {
    const { db, walPath, pin, counters, logger } = this.options;
    if (pin || this.options.snapshotReading()) return;
    if ((statSync(walPath, { throwIfNoEntry: false })?.size ?? 0) < this.truncateWalBytes) return;
    try {
      const result = (db.pragma("wal_checkpoint(TRUNCATE)") as CheckpointResult[])[0];
      if (result?.busy === 0) counters.checkpoints.truncate += 1;
    } catch (err) {
      logger.debug({ err: (err as Error).message }, "replication: WAL truncation skipped");
    }
  }
}
