// The shipper: streams the database's WAL into the replica (Litestream v0.3 layout),
// owns checkpoints, takes snapshots, enforces retention.
//
// One position describes what the replica holds: generation G, WAL round `index`, the
// first `offset` bytes of that round. A sync reads the committed frames after it from
// `-wal` (./wal-tail.ts), uploads them as one segment, and advances it. Rounds advance
// only through checkpoints the replicator itself made after shipping everything (see
// maybeCheckpoint); any other change of the WAL is a lost continuity, answered with a new
// generation: a new id, a snapshot, and the WAL from there on.

import { EventEmitter, once } from "node:events";
import { fstatSync, statSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import Database from "better-sqlite3";
import type { Logger } from "pino";
import type { ReplicationConfig } from "./config.js";
import { CommitWaiters } from "./commit-waiters.js";
import { newReplicationCounters, type ReplicationCounters, type ReplicationMetrics } from "./counters.js";
import { databaseDescriptor, fingerprintDatabase } from "./sqlite/database-file.js";
import { formatDuration } from "../internal/duration.js";
import { generationPrefix, GENERATIONS_PREFIX, newGenerationId, snapshotKey, walSegmentKey } from "./replica/layout.js";
import { lz4FrameEncode } from "./lz4/frame.js";
import { writePosition } from "./writer/position.js";
import type { ReplicaClient } from "./replica/client.js";
import { enforceRetention } from "./retention.js";
import { WriterConflictError, type WriterGuard } from "./writer/single-writer.js";
import { captureDatabaseImage, uploadDatabaseImage, type DatabaseImage } from "./snapshot.js";
import { parseWalHeader, walFrameSize, WAL_HEADER_SIZE } from "./sqlite/wal.js";
import { WalPin } from "./sqlite/wal-pin.js";
import { readWalTail, startOfRound, WalDiscontinuityError, walPathOf, type WalPosition, type WalSegment } from "./sqlite/wal-tail.js";

export { ReplicationTimeoutError } from "./commit-waiters.js";

export interface ReplicationStatus {
  mode: "async" | "sync";
  /** The replica, without credentials. */
  target: string;
  generation: string | null;
  index: number;
  offset: number;
  /** Age of the oldest commit not yet in the replica; 0 when it holds everything. */
  lagSeconds: number;
  lastSyncAt: Date | null;
  lastError: string | null;
  /** False from a failed upload (segment or snapshot) until the next one succeeds, and for good after a writer conflict. */
  healthy: boolean;
  /** Another instance writes this replica: replication stopped for good (see single-writer.ts). */
  writerConflict: { generation: string | null; host: string | null } | null;
}

/** Where the replicator starts: the generation a clean stop left off, or a new one (and why). */
export type GenerationPlan =
  | { readonly kind: "continue"; readonly generation: string; readonly index: number; readonly lastSnapshot: { readonly index: number; readonly at: Date } }
  | { readonly kind: "new"; readonly reason: string };

export interface ReplicatorOptions {
  readonly dbPath: string;
  readonly client: ReplicaClient;
  readonly config: ReplicationConfig;
  readonly logger: Logger;
  readonly plan: GenerationPlan;
  /** Consulted before every upload: the single-writer checks and the replica lease. */
  readonly guard: WriterGuard;
  /**
   * Hold a read transaction between syncs (Litestream's method), for a database that other
   * processes write and checkpoint: no one can then restart the WAL behind our back.
   */
  readonly pinWal?: boolean;
  /** Checkpoint once the shipped part of the WAL round reaches this many frames. */
  readonly checkpointThresholdPages?: number;
  /** A `-wal` file this large is truncated (TRUNCATE checkpoint) once everything in it is shipped. */
  readonly truncateWalBytes?: number;
  /** Where to count what replication does (for metrics); the replica client may count into it too. */
  readonly counters?: ReplicationCounters;
  /** A segment stops at the last commit within this size (a larger single transaction ships whole). */
  readonly maxSegmentBytes?: number;
  /** Shipping more WAL than the database's size triggers a snapshot, but never below this. */
  readonly minSnapshotTriggerBytes?: number;
  readonly retentionCheckIntervalMs?: number;
  /**
   * Upper bound of the retry back-off after failed uploads. Short: in sync mode uploads
   * answer 503 until the next attempt succeeds, so recovery should follow the store's
   * return within seconds; a failed attempt against a store that is down costs little.
   */
  readonly maxRetryDelayMs?: number;
}

/** A row of `PRAGMA wal_checkpoint`: busy 1 when it could not finish; frames in the WAL; frames backfilled. */
interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

const NO_POSITION_CHECKSUM: readonly [number, number] = [0, 0];

function roundStart(index: number): WalPosition {
  return { index, header: null, offset: 0, checksum: NO_POSITION_CHECKSUM };
}

function concatSegments(a: WalSegment, b: WalSegment): WalSegment {
  return { from: a.from, to: b.to, data: Buffer.concat([a.data, b.data]), pageSize: b.pageSize, pageCount: b.pageCount, complete: b.complete };
}

/** The start of the whole second after `ms`. */
function nextSecond(ms: number): number {
  return (Math.floor(ms / 1000) + 1) * 1000;
}

function expectRestartAfter(header: Buffer, end: number) {
  return { header, end, salt1: (parseWalHeader(header).salt1 + 1) >>> 0 };
}

function openConnection(dbPath: string): Database.Database {
  const db = new Database(dbPath, { fileMustExist: true });
  // Short: a checkpoint that waits on a lock blocks the event loop for this long.
  db.pragma("busy_timeout = 100");
  return db;
}

export class Replicator {
  private readonly dbPath: string;
  private readonly walPath: string;
  private readonly client: ReplicaClient;
  private readonly config: ReplicationConfig;
  private readonly logger: Logger;
  private readonly guard: WriterGuard;
  private readonly checkpointThresholdPages: number;
  private readonly truncateWalBytes: number;
  private readonly counters: ReplicationCounters;
  private readonly maxSegmentBytes: number;
  private readonly minSnapshotTriggerBytes: number;
  private readonly retentionCheckIntervalMs: number;
  private readonly maxRetryDelayMs: number;

  /** For checkpoints. */
  private readonly db: Database.Database;
  /** Holds the read transaction of a snapshot being taken. */
  private readonly snapshotDb: Database.Database;
  /** The long-lived read transaction, when `pinWal` is on. */
  private readonly pin: WalPin | null;

  /** The generation the replica holds a snapshot of; null until one is uploaded. */
  private generation: string | null = null;
  private newGenerationReason: string | null = null;
  private position: WalPosition;
  /** Frames read right before a full checkpoint of ours: the WAL may no longer have them. */
  private held: WalSegment | null = null;
  /**
   * A WAL restart that loses nothing (see readWalTail's nextRoundSalt1): set when every
   * frame of round `header` up to `end` is shipped, held or in the snapshot, and a restart
   * is expected. It lapses when that round turns out to go on past `end`.
   */
  private expectedRestart: { readonly header: Buffer; readonly end: number; readonly salt1: number } | null = null;

  private readonly timer: NodeJS.Timeout;
  private readonly events = new EventEmitter();
  private running: Promise<void> | null = null;
  private rerun = false;
  private dirty = true;
  private walSignature = "";
  private readonly waiters: CommitWaiters;
  private unshippedSince: number | null = null;
  /** The oldest commit the sync in flight is shipping: unshipped until its upload succeeds. */
  private shippingSince: number | null = null;

  private failures = 0;
  private nextAttemptAt = 0;
  private lastError: string | null = null;
  private lastSyncAt: Date | null = null;
  /** Set once another writer is detected; nothing is uploaded after that. */
  private conflict: WriterConflictError | null = null;

  private snapshotTask: Promise<void> | null = null;
  /** Aborts a periodic snapshot's upload at stop (a generation's first snapshot is left to finish). */
  private readonly snapshotAbort = new AbortController();
  private lastSnapshotAt = 0;
  private lastSnapshotIndex = 0;
  private nextSnapshotAttemptAt = 0;
  private shippedSinceSnapshot = 0;
  private databaseBytes = 0;

  private retentionTask: Promise<void> | null = null;
  private nextRetentionAt = 0;
  /** Retention has new work only after an upload: an idle replica gets no requests at all. */
  private uploadedSinceRetention = false;

  private stopping = false;
  private stopped: Promise<void> | null = null;

  constructor(options: ReplicatorOptions) {
    this.dbPath = options.dbPath;
    this.walPath = walPathOf(options.dbPath);
    this.client = options.client;
    this.config = options.config;
    this.logger = options.logger;
    this.guard = options.guard;
    this.checkpointThresholdPages = options.checkpointThresholdPages ?? 1000;
    this.truncateWalBytes = options.truncateWalBytes ?? 64 << 20;
    this.counters = options.counters ?? newReplicationCounters();
    this.maxSegmentBytes = options.maxSegmentBytes ?? 16 << 20;
    this.minSnapshotTriggerBytes = options.minSnapshotTriggerBytes ?? 1 << 20;
    this.retentionCheckIntervalMs = options.retentionCheckIntervalMs ?? 3_600_000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 5_000;

    this.db = openConnection(this.dbPath);
    const journalMode = this.db.pragma("journal_mode", { simple: true });
    if (journalMode !== "wal") {
      this.db.close();
      throw new Error(`${this.dbPath} is in journal_mode=${String(journalMode)}; replication needs WAL mode`);
    }
    this.snapshotDb = openConnection(this.dbPath);
    this.pin = options.pinWal ? new WalPin(openConnection(this.dbPath), this.dbPath) : null;
    this.pin?.hold();
    this.waiters = new CommitWaiters(this.config.syncTimeoutMs);

    const { plan } = options;
    if (plan.kind === "continue") {
      this.generation = plan.generation;
      this.position = roundStart(plan.index);
      this.lastSnapshotAt = plan.lastSnapshot.at.getTime();
      this.lastSnapshotIndex = plan.lastSnapshot.index;
      this.databaseBytes = fstatSync(databaseDescriptor(this.dbPath)).size;
    } else {
      this.newGenerationReason = plan.reason;
      this.position = roundStart(0);
    }
    this.timer = setInterval(() => this.tick(), Math.max(10, this.config.syncIntervalMs));
    this.kick();
  }

  notifyCommit(): void {
    this.dirty = true;
    this.unshippedSince ??= Date.now();
  }

  waitUntilReplicated(): Promise<void> {
    if (this.stopping) return Promise.reject(new Error("replication is stopping"));
    if (this.conflict) return Promise.reject(this.conflict);
    const shipped = this.waiters.wait();
    this.dirty = true;
    this.kick();
    return shipped;
  }

  status(): ReplicationStatus {
    return {
      mode: this.config.syncMode,
      target: this.client.description,
      generation: this.generation,
      index: this.position.index,
      offset: this.position.offset,
      lagSeconds: this.lagSeconds(),
      lastSyncAt: this.lastSyncAt,
      lastError: this.conflict?.message ?? this.lastError,
      // Starting a generation (generation still null) is not a failure; failing to is.
      healthy: this.conflict === null && this.lastError === null,
      writerConflict: this.conflict && { generation: this.conflict.other.generation, host: this.conflict.other.host },
    };
  }

  metrics(): ReplicationMetrics {
    const counters = structuredClone(this.counters);
    return { ...counters, walBytes: statSync(this.walPath, { throwIfNoEntry: false })?.size ?? 0 };
  }

  private lagSeconds(): number {
    const oldest = Math.min(this.unshippedSince ?? Infinity, this.shippingSince ?? Infinity);
    return oldest === Infinity ? 0 : (Date.now() - oldest) / 1000;
  }

  stop(closeAppDatabase: () => void): Promise<void> {
    this.stopped ??= this.shutDown(closeAppDatabase);
    return this.stopped;
  }

  // ---- scheduling -------------------------------------------------------------------------

  /** Every sync interval: cheap checks only; S3 is touched only when there is work. */
  private tick(): void {
    if (this.stopping || this.conflict) return;
    const signature = this.walFileSignature();
    if (signature !== this.walSignature) {
      // Another connection (or process) wrote: nothing calls notifyCommit for it.
      this.walSignature = signature;
      this.notifyCommit();
    }
    if (this.dirty || this.held || this.generation === null || this.waiters.waiting) this.kick();
    this.maybeStartSnapshot();
    this.maybeStartRetention();
  }

  private walFileSignature(): string {
    try {
      const s = statSync(this.walPath);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return "none";
    }
  }

  /** Runs a sync now, or right after the one in progress; not while backing off after a failure. */
  private kick(): void {
    if (this.stopping || this.conflict) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    if (Date.now() < this.nextAttemptAt) return;
    this.rerun = false;
    this.running = this.runOnce().finally(() => {
      this.running = null;
      this.events.emit("ran");
      if (this.rerun) this.kick();
    });
  }

  private async runOnce(): Promise<void> {
    try {
      if (this.generation === null) await this.startGeneration();
      else if (!this.guard.holdsLease) await this.beforeUpload(this.generation); // at start: check before anything else
      if (await this.syncOnce()) this.rerun = true;
    } catch (err) {
      if (err instanceof WriterConflictError) return; // handled by beforeUpload
      if (err instanceof WalDiscontinuityError) {
        this.logger.warn({ reason: err.message, replica: this.client.description }, "WAL continuity lost: starting a new generation");
        this.loseGeneration(err.message);
        this.rerun = true;
        return;
      }
      this.failed(err);
    }
  }

  private succeeded(): void {
    if (this.lastError !== null) this.logger.info({ replica: this.client.description }, "replication recovered");
    this.lastError = null;
    this.failures = 0;
    this.nextAttemptAt = 0;
  }

  /** Logs when replication starts failing, not on every attempt; backs off exponentially. */
  private failed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.lastError === null && !this.stopping) {
      this.logger.error({ err: message, replica: this.client.description }, "replication failing; writes stay in the local WAL and will be retried");
    }
    this.lastError = message;
    this.failures += 1;
    this.counters.syncErrors += 1;
    const backoff = Math.min(this.config.syncIntervalMs * 2 ** (this.failures - 1), this.maxRetryDelayMs);
    this.nextAttemptAt = Date.now() + backoff;
  }

  /** The single-writer checks; a conflict stops replication here, whoever the caller. */
  private async beforeUpload(generation: string): Promise<void> {
    try {
      await this.guard.beforeUpload(generation);
    } catch (err) {
      if (err instanceof WriterConflictError) this.stopForConflict(err);
      throw err;
    }
  }

  /**
   * Another writer: uploading more would interleave two histories in one replica. Local
   * writes go on (async mode acknowledges them; sync mode answers 503), nothing is shipped.
   */
  private stopForConflict(err: WriterConflictError): void {
    if (this.conflict) return;
    this.conflict = err;
    this.logger.error(
      { err: err.message, replica: this.client.description, generation: this.generation, otherGeneration: err.other.generation, otherHost: err.other.host },
      "replication stopped: another writer uses this replica; restart this instance only once it is the only writer (see docs/replication.md, Single writer)",
    );
    this.waiters.rejectAll(err);
  }

  private loseGeneration(reason: string): void {
    this.generation = null;
    this.newGenerationReason = reason;
    this.held = null;
    this.expectedRestart = null;
    this.position = roundStart(0);
  }

  // ---- generations and snapshots -----------------------------------------------------------

  /**
   * A new generation: its snapshot first, so that a restore never finds segments without
   * one. Restore (ours and Litestream's) takes the generation whose newest object is the
   * newest, and S3 keeps whole seconds: a snapshot in the same second as another
   * generation's newest object would tie with it, and the restore could pick the old one.
   * So the snapshot goes up in a later second than every object there, checked by reading
   * back its timestamp (one LIST of the replica and one of the generation: generations start
   * rarely), and uploaded again a second later if the store's clock still says otherwise.
   */
  private async startGeneration(): Promise<void> {
    const generation = newGenerationId();
    await this.beforeUpload(generation);
    const mustFollow = await this.newestObjectTime(GENERATIONS_PREFIX);
    this.pin?.hold();
    const image = captureDatabaseImage(this.snapshotDb, this.dbPath);
    try {
      // Index 0 is the WAL round in place now, from its start; the image holds part of it
      // at most, and restore replays the whole round on top (whole pages, in order).
      // First by our clock; after a tie, by the store's: the time its clock needs to reach
      // its next second. The margin covers clocks that lag a little (file mtimes do).
      let wait = mustFollow === null ? 0 : nextSecond(mustFollow) - Date.now();
      for (let attempt = 1; ; attempt++) {
        if (wait > 0) await delay(wait + 50);
        await this.uploadSnapshot(snapshotKey(generation, 0), image);
        if (mustFollow === null || attempt === 3) break;
        const uploadedAt = await this.newestObjectTime(generationPrefix(generation));
        if (uploadedAt === null || uploadedAt >= nextSecond(mustFollow)) break;
        wait = nextSecond(uploadedAt) - uploadedAt;
      }
    } finally {
      image.release();
    }
    this.generation = generation;
    this.position = image.walHeader ? startOfRound(0, image.walHeader) : roundStart(0);
    this.held = null;
    // With a pin, the round in place cannot grow unseen and then restart: frames added after
    // the image are not backfilled while the pin holds (a pin taken with everything
    // backfilled blocks all backfilling), and only a fully backfilled WAL restarts. So a
    // restart before anything was shipped means the round ended where the image did.
    this.expectedRestart = this.pin && image.walHeader ? expectRestartAfter(image.walHeader, image.walOffset) : null;
    this.databaseBytes = image.pageCount * image.pageSize;
    this.lastSnapshotAt = Date.now();
    this.lastSnapshotIndex = 0;
    this.shippedSinceSnapshot = 0;
    this.nextRetentionAt = 0;
    this.uploadedSinceRetention = true;
    this.logger.info({ generation, reason: this.newGenerationReason, replica: this.client.description }, "replication: new generation");
    this.newGenerationReason = null;
  }

  /** The newest lastModified under `prefix`, in ms; null when there is nothing. */
  private async newestObjectTime(prefix: string): Promise<number | null> {
    let newest: number | null = null;
    for await (const object of this.client.list(prefix)) newest = Math.max(newest ?? 0, object.lastModified.getTime());
    return newest;
  }

  private maybeStartSnapshot(): void {
    if (this.snapshotTask || this.stopping || this.generation === null || this.lastError !== null) return;
    const now = Date.now();
    if (now < this.nextSnapshotAttemptAt) return;
    // One snapshot per WAL index: another one at the same index would replace it (same
    // key), and a point-in-time restore to before the replacement would lose its start.
    if ((this.held?.to ?? this.position).index === this.lastSnapshotIndex) return;
    // An idle database needs no new snapshot: the last one and the WAL after it restore it.
    const dueByTime = now - this.lastSnapshotAt >= this.config.snapshotIntervalMs && this.shippedSinceSnapshot > 0;
    const dueBySize = this.shippedSinceSnapshot > Math.max(this.databaseBytes, this.minSnapshotTriggerBytes);
    if (!dueByTime && !dueBySize) return;
    const generation = this.generation;
    this.snapshotTask = this.snapshot(generation)
      .then(
        (taken) => {
          if (taken) this.logger.info({ generation, reason: dueByTime ? "interval" : "WAL larger than the database" }, "replication: snapshot");
        },
        (err: unknown) => {
          this.nextSnapshotAttemptAt = Date.now() + this.maxRetryDelayMs;
          if (!this.stopping && !this.conflict) this.logger.warn({ err: (err as Error).message, generation }, "replication: snapshot failed; will retry");
        },
      )
      .finally(() => {
        this.snapshotTask = null;
      });
  }

  /**
   * A snapshot in the current generation, named after the WAL round it was taken in. It
   * goes up only once the replica holds that round up to the image's position: a restore
   * replays the round's segments over it, and replaying only part of what the image
   * already holds would bring back older versions of pages it has newer ones of.
   * Returns false when it was not the moment (the WAL moved on, or the generation ended).
   */
  private async snapshot(generation: string): Promise<boolean> {
    const image = captureDatabaseImage(this.snapshotDb, this.dbPath);
    try {
      const known = this.held?.to ?? this.position;
      // After our TRUNCATE (see truncateWal) and before the next write, the database file
      // alone holds the round `known`, all of it shipped: as good an image of it as before.
      const truncated = image.walHeader === null && this.held === null && known.header !== null && this.expectedRestart?.header.equals(known.header) === true;
      if (known.header && !truncated && !(image.walHeader && image.walHeader.equals(known.header))) return false;
      const index = known.index;
      if (index === this.lastSnapshotIndex || !(await this.shippedThrough(generation, index, image))) return false;
      await this.beforeUpload(generation);
      const before = this.shippedSinceSnapshot;
      await this.uploadSnapshot(snapshotKey(generation, index), image, this.snapshotAbort.signal);
      this.lastSnapshotAt = Date.now();
      this.lastSnapshotIndex = index;
      this.uploadedSinceRetention = true;
      this.shippedSinceSnapshot -= before;
      return true;
    } finally {
      image.release();
    }
  }

  private async uploadSnapshot(key: string, image: DatabaseImage, signal?: AbortSignal): Promise<void> {
    const started = performance.now();
    await uploadDatabaseImage(this.client, key, image, signal);
    this.counters.snapshots += 1;
    this.counters.snapshotSeconds += (performance.now() - started) / 1000;
  }

  private async shippedThrough(generation: string, index: number, image: DatabaseImage): Promise<boolean> {
    for (;;) {
      if (this.stopping || this.generation !== generation) return false;
      const p = this.position;
      if (image.walOffset === 0 || p.index > index) return true;
      if (p.index === index && p.header) {
        if (!image.walHeader || !p.header.equals(image.walHeader)) return false;
        if (p.offset >= image.walOffset) return true;
      }
      this.dirty = true;
      this.kick();
      await once(this.events, "ran");
    }
  }

  private maybeStartRetention(): void {
    if (this.retentionTask || this.stopping || this.generation === null || !this.uploadedSinceRetention || Date.now() < this.nextRetentionAt) return;
    this.nextRetentionAt = Date.now() + this.retentionCheckIntervalMs;
    this.uploadedSinceRetention = false;
    const generation = this.generation;
    this.retentionTask = enforceRetention(this.client, generation, this.config.retentionMs, this.logger)
      .then(
        () => undefined,
        (err: unknown) => {
          this.uploadedSinceRetention = true;
          this.logger.warn({ err: (err as Error).message, replica: this.client.description }, "replication: retention failed; will retry");
        },
      )
      .finally(() => {
        this.retentionTask = null;
      });
  }

  // ---- shipping ------------------------------------------------------------------------------

  /**
   * Ships what is committed and not yet in the replica, as one segment. Returns true when
   * more is waiting. `onCaughtUp` runs synchronously right after a read found nothing to
   * ship, so that no write of this process can come between the two.
   */
  private async syncOnce(onCaughtUp?: () => void): Promise<boolean> {
    const generation = this.generation!;
    const readSeq = this.waiters.nextRead();
    this.dirty = false;
    const unshippedSince = this.unshippedSince;
    this.unshippedSince = null;
    this.shippingSince = unshippedSince;

    let segment: WalSegment | null;
    let caughtUp: boolean;
    let next: WalSegment | null;
    try {
      const held = this.held;
      next = readWalTail(this.walPath, held?.to ?? this.position, { nextRoundSalt1: this.expectedRestart?.salt1 ?? null, maxBytes: this.maxSegmentBytes });
      if (held && next && next.from.index !== held.to.index) {
        // The WAL restarted after our checkpoint: ship the old round's tail now, the new round next.
        segment = held;
        next = null;
        caughtUp = false;
      } else {
        segment = held && next ? concatSegments(held, next) : (held ?? next);
        caughtUp = next?.complete ?? true;
      }
    } catch (err) {
      this.stillUnshipped(unshippedSince);
      throw err;
    }

    if (!segment) {
      this.shippingSince = null;
      this.succeeded();
      this.waiters.shipped(readSeq);
      onCaughtUp?.();
      return false;
    }
    const compressed = lz4FrameEncode(segment.data);
    try {
      await this.beforeUpload(generation);
      await this.client.put(walSegmentKey(generation, segment.from.index, segment.from.offset), compressed);
    } catch (err) {
      this.stillUnshipped(unshippedSince);
      throw err;
    }

    // Uploaded. From here to the end of maybeCheckpoint there is no await: see there why.
    this.position = segment.to;
    this.held = null;
    this.shippingSince = null;
    const expected = this.expectedRestart;
    if (next && expected && (!next.to.header!.equals(expected.header) || next.to.offset > expected.end)) {
      this.expectedRestart = null; // the expected restart came, or the round went on after all
    }
    this.lastSyncAt = new Date();
    this.uploadedSinceRetention = true;
    this.counters.syncs += 1;
    this.counters.shippedBytes += compressed.length;
    this.counters.shippedWalBytes += segment.data.length;
    this.succeeded(); // before resolving waiters, so that they see the healthy status
    this.shippedSinceSnapshot += segment.data.length;
    this.databaseBytes = segment.pageCount * segment.pageSize;
    if (caughtUp) this.waiters.shipped(readSeq);
    else this.stillUnshipped(unshippedSince);
    this.maybeCheckpoint();
    return !caughtUp;
  }

  /**
   * A sync covered commits from `since` on but did not ship them all: they still count for
   * the lag, and are still to do (after a failure, once the back-off ends, even if nothing
   * new is written).
   */
  private stillUnshipped(since: number | null): void {
    this.unshippedSince = Math.min(since ?? Date.now(), this.unshippedSince ?? Date.now());
    this.shippingSince = null;
    this.dirty = true;
  }

  /**
   * Checkpoints belong to the replicator, and only shipped frames may be checkpointed: a
   * checkpoint that backfills every frame lets the next write restart the WAL over them.
   *
   * Why this is safe in the server (no pin): it runs right after a successful upload, in
   * the same synchronous step (better-sqlite3 is synchronous and the app writes from this
   * thread, so no write of the app can come between). First it reads the frames committed
   * while the upload was in flight and keeps them in memory (`held`: what one upload's
   * duration of writes produced); then it checkpoints PASSIVE (never waits on readers or
   * writers: writers are never stalled). If that backfilled every frame and the WAL holds
   * exactly the frames we know of, the next write restarts the WAL with salt-1 + 1, and
   * that restart is the next index: every frame of the old round is in the replica or in
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
  private maybeCheckpoint(): void {
    const { position } = this;
    if (this.stopping || !position.header) return;
    const header = parseWalHeader(position.header);
    const frameSize = walFrameSize(header.pageSize);
    if ((position.offset - WAL_HEADER_SIZE) / frameSize < this.checkpointThresholdPages) return;
    this.pin?.renew();
    let tail: WalSegment | null;
    try {
      tail = readWalTail(this.walPath, position, { nextRoundSalt1: null, maxBytes: this.maxSegmentBytes });
    } catch {
      return; // the next sync meets the same problem and handles it
    }
    if (tail && !tail.complete) return; // too much to hold in memory: checkpoint after the next sync
    const knownFrames = ((tail?.to.offset ?? position.offset) - WAL_HEADER_SIZE) / frameSize;
    let result: CheckpointResult | undefined;
    try {
      result = (this.db.pragma("wal_checkpoint(PASSIVE)") as CheckpointResult[])[0];
      this.counters.checkpoints.passive += 1;
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, "replication: checkpoint skipped");
    }
    const full = result !== undefined && result.busy === 0 && result.log === knownFrames && result.checkpointed === result.log;
    if (full && (this.pin?.renewAfterCheckpoint(this.db, tail?.to ?? position) ?? true)) {
      this.held = tail;
      this.expectedRestart = expectRestartAfter(position.header, (tail?.to ?? position).offset);
      this.truncateWal();
    }
  }

  /**
   * Right after a full checkpoint of ours, in the same synchronous step: TRUNCATE only has
   * the WAL's restart left to do, and it restarts it the way the next write would have
   * (salt-1 + 1, which `expectedRestart` awaits), then truncates the file to 0 bytes (which
   * readWalTail reads as "nothing new" while a restart is expected). TRUNCATE waits on
   * readers of the WAL through the busy handler, blocking the event loop: so not while a
   * snapshot holds its read transaction, nor with a pin (a reader by design). If it is busy
   * all the same, the PASSIVE checkpoint stands and the file is truncated another time.
   */
  private truncateWal(): void {
    if (this.pin || this.snapshotDb.inTransaction) return;
    if ((statSync(this.walPath, { throwIfNoEntry: false })?.size ?? 0) < this.truncateWalBytes) return;
    try {
      const result = (this.db.pragma("wal_checkpoint(TRUNCATE)") as CheckpointResult[])[0];
      if (result?.busy === 0) this.counters.checkpoints.truncate += 1;
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, "replication: WAL truncation skipped");
    }
  }

  // ---- stopping ------------------------------------------------------------------------------

  private async shutDown(closeAppDatabase: () => void): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.guard.interrupt(); // a wait for another writer's lease ends now
    // A periodic snapshot can wait for the next run; a new generation's first one cannot:
    // without it nothing of this run reaches the replica, so it is left to finish.
    this.snapshotAbort.abort();
    this.events.emit("ran"); // wakes a snapshot waiting for the WAL to be shipped
    await Promise.allSettled([this.running, this.snapshotTask, this.retentionTask]);

    const closeAll = () => {
      this.pin?.close();
      this.snapshotDb.close();
      this.db.close();
      closeAppDatabase();
    };
    const generation = this.generation;
    const flushed = generation !== null && this.conflict === null && this.guard.holdsLease && (await this.flush(closeAll));
    if (!flushed) {
      if (generation !== null && this.conflict === null) {
        this.lastError ??= `writes were still arriving after ${formatDuration(this.config.syncTimeoutMs)} of flushing`;
        this.logger.error({ replica: this.client.description, err: this.lastError }, "replication: could not ship the last writes before stopping; the next start begins a new generation");
      }
      closeAll();
    }
    this.waiters.rejectAll(new Error("replication stopped"));
    if (flushed) await this.persistPosition(generation);
    if (this.conflict === null) await this.guard.release();
  }

  /**
   * Ships everything, then runs `closeAll` in the same synchronous step as the read that
   * found nothing left to ship. False (and `closeAll` not run) when that did not happen
   * within the sync timeout.
   */
  private async flush(closeAll: () => void): Promise<boolean> {
    const deadline = Date.now() + this.config.syncTimeoutMs;
    let closed = false;
    const close = () => {
      closeAll();
      closed = true;
    };
    while (!closed && Date.now() < deadline) {
      try {
        await this.syncOnce(close);
      } catch (err) {
        if (err instanceof WalDiscontinuityError) {
          this.lastError = err.message;
          return false;
        }
        if (err instanceof WriterConflictError) return false;
        this.failed(err);
        await delay(Math.max(0, Math.min(this.nextAttemptAt, deadline) - Date.now()));
      }
    }
    return closed;
  }

  /** After the app's close removed `-wal`, records where the next run continues. */
  private async persistPosition(generation: string): Promise<void> {
    try {
      const wal = statSync(this.walPath, { throwIfNoEntry: false });
      if (wal && wal.size > 0) {
        this.logger.info({ wal: this.walPath }, "replication: the WAL outlived the database's close; the next start begins a new generation");
        return;
      }
      const index = this.position.header ? this.position.index + 1 : this.position.index;
      writePosition(this.dbPath, { generation, index, database: await fingerprintDatabase(this.dbPath) });
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, "replication: could not record the position; the next start begins a new generation");
    }
  }
}
