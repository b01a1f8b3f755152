// The shipper: streams the database's WAL into the replica (Litestream v0.3 layout), and
// drives the parts that do the rest, each in ./ship/: the retry back-off, the snapshot and
// retention schedules, the lag clock and the checkpointer.
//
// One position describes what the replica holds: generation G, WAL round `index`, the
// first `offset` bytes of that round. A sync reads the committed frames after it from
// `-wal` (./sqlite/wal-tail.ts), uploads them as one segment, and advances it. Rounds
// advance only through checkpoints the replicator itself made after shipping everything
// (see commitUpload and ./ship/checkpointer.ts); any other change of the WAL is a lost
// continuity, answered with a new generation: a new id, a snapshot, and the WAL from there on.

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
import { WalPin } from "./sqlite/wal-pin.js";
import { readWalTail, startOfRound, WalDiscontinuityError, walPathOf, type WalPosition, type WalSegment } from "./sqlite/wal-tail.js";
import { DEFAULT_RETRY_BACKOFF_MAX_MS, RetryBackoff } from "./ship/backoff.js";
import { Checkpointer, expectRestartAfter, type ExpectedRestart } from "./ship/checkpointer.js";
import { LagClock } from "./ship/lag.js";
import { RetentionSchedule } from "./ship/retention-schedule.js";
import { SnapshotSchedule } from "./ship/snapshot-schedule.js";

export { ReplicationTimeoutError } from "./commit-waiters.js";

/** A segment stops at the last commit within this size (a larger single transaction ships whole). */
export const DEFAULT_MAX_SEGMENT_BYTES = 16 << 20;
/** Short: a checkpoint that waits on a lock blocks the event loop for this long. */
const BUSY_TIMEOUT_MS = 100;
/** The tick never runs more often than this, whatever the sync interval. */
const MIN_TICK_MS = 10;

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
  /** DEFAULT_CHECKPOINT_THRESHOLD_PAGES (./ship/checkpointer.ts) when absent. */
  readonly checkpointThresholdPages?: number;
  /** DEFAULT_TRUNCATE_WAL_BYTES (./ship/checkpointer.ts) when absent. */
  readonly truncateWalBytes?: number;
  /** Where to count what replication does (for metrics); the replica client may count into it too. */
  readonly counters?: ReplicationCounters;
  /** DEFAULT_MAX_SEGMENT_BYTES when absent. */
  readonly maxSegmentBytes?: number;
  /** DEFAULT_MIN_SNAPSHOT_TRIGGER_BYTES (./ship/snapshot-schedule.ts) when absent. */
  readonly minSnapshotTriggerBytes?: number;
  /** DEFAULT_RETENTION_CHECK_INTERVAL_MS (./ship/retention-schedule.ts) when absent. */
  readonly retentionCheckIntervalMs?: number;
  /** Ceiling of the retry back-off after failed uploads: DEFAULT_RETRY_BACKOFF_MAX_MS (./ship/backoff.ts) when absent. */
  readonly maxRetryDelayMs?: number;
}

/** Where the replica is in a generation this run ships into. */
interface Shipping {
  readonly generation: string;
  /** What the replica holds. */
  position: WalPosition;
  /** Frames read right before a full checkpoint of ours: the WAL may no longer have them. */
  held: WalSegment | null;
  expectedRestart: ExpectedRestart | null;
}

/** No generation yet (or it was lost): the next run starts one, for this reason. */
interface Starting {
  readonly generation: null;
  readonly reason: string;
}

/** A segment just uploaded, and what the sync that read it knows. */
interface Upload {
  readonly segment: WalSegment;
  /** What was read from the WAL (segment may add held frames before it); null when only held frames went up. */
  readonly next: WalSegment | null;
  /** Nothing committed before the read is left out. */
  readonly caughtUp: boolean;
  readonly compressedBytes: number;
  /** The waiters' read sequence (CommitWaiters.nextRead) and the lag's start, taken when the sync began. */
  readonly readSeq: number;
  readonly since: number | null;
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

function openConnection(dbPath: string): Database.Database {
  const db = new Database(dbPath, { fileMustExist: true });
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return db;
}

export class Replicator {
  private readonly dbPath: string;
  private readonly walPath: string;
  private readonly client: ReplicaClient;
  private readonly config: ReplicationConfig;
  private readonly logger: Logger;
  private readonly guard: WriterGuard;
  private readonly counters: ReplicationCounters;
  private readonly maxSegmentBytes: number;

  /** For checkpoints. */
  private readonly db: Database.Database;
  /** Holds the read transaction of a snapshot being taken. */
  private readonly snapshotDb: Database.Database;
  /** The long-lived read transaction, when `pinWal` is on. */
  private readonly pin: WalPin | null;

  private readonly checkpointer: Checkpointer;
  private readonly backoff: RetryBackoff;
  private readonly snapshots: SnapshotSchedule;
  private readonly retention: RetentionSchedule;
  private readonly lag = new LagClock();
  private readonly waiters: CommitWaiters;

  /** The generation the replica holds a snapshot of, or why one must be started. */
  private stream: Shipping | Starting;

  private readonly timer: NodeJS.Timeout;
  private readonly events = new EventEmitter();
  private running: Promise<void> | null = null;
  private rerun = false;
  /** A sync is wanted: something was committed, or someone waits for the replica. */
  private dirty = true;
  private walSignature = "";
  private lastSyncAt: Date | null = null;
  /** Set once another writer is detected; nothing is uploaded after that. */
  private conflict: WriterConflictError | null = null;

  private snapshotTask: Promise<void> | null = null;
  private retentionTask: Promise<void> | null = null;

  /**
   * Aborted when stopping begins: it is the "stopping" flag, and it aborts a periodic
   * snapshot's upload (a generation's first snapshot is left to finish).
   */
  private readonly stopSignal = new AbortController();
  private stopped: Promise<void> | null = null;

  constructor(options: ReplicatorOptions) {
    this.dbPath = options.dbPath;
    this.walPath = walPathOf(options.dbPath);
    this.client = options.client;
    this.config = options.config;
    this.logger = options.logger;
    this.guard = options.guard;
    this.counters = options.counters ?? newReplicationCounters();
    this.maxSegmentBytes = options.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;

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

    this.checkpointer = new Checkpointer({
      db: this.db,
      walPath: this.walPath,
      pin: this.pin,
      thresholdPages: options.checkpointThresholdPages,
      truncateWalBytes: options.truncateWalBytes,
      maxHeldBytes: this.maxSegmentBytes,
      snapshotReading: () => this.snapshotDb.inTransaction,
      counters: this.counters,
      logger: this.logger,
    });
    const maxRetryDelayMs = options.maxRetryDelayMs ?? DEFAULT_RETRY_BACKOFF_MAX_MS;
    this.backoff = new RetryBackoff(this.config.syncIntervalMs, maxRetryDelayMs);
    this.retention = new RetentionSchedule(options.retentionCheckIntervalMs);
    // A failed snapshot is retried after the longest upload back-off.
    const snapshotOptions = { intervalMs: this.config.snapshotIntervalMs, minTriggerBytes: options.minSnapshotTriggerBytes, retryDelayMs: maxRetryDelayMs };
    const { plan } = options;
    if (plan.kind === "continue") {
      this.stream = { generation: plan.generation, position: roundStart(plan.index), held: null, expectedRestart: null };
      const last = { index: plan.lastSnapshot.index, at: plan.lastSnapshot.at.getTime() };
      this.snapshots = new SnapshotSchedule(snapshotOptions, last, fstatSync(databaseDescriptor(this.dbPath)).size);
    } else {
      this.stream = { generation: null, reason: plan.reason };
      this.snapshots = new SnapshotSchedule(snapshotOptions);
    }
    this.timer = setInterval(() => this.tick(), Math.max(MIN_TICK_MS, this.config.syncIntervalMs));
    this.kick();
  }

  notifyCommit(): void {
    this.dirty = true;
    this.lag.committed();
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
    const { stream } = this;
    const position = stream.generation === null ? roundStart(0) : stream.position;
    const lastError = this.backoff.lastError;
    return {
      mode: this.config.syncMode,
      target: this.client.description,
      generation: stream.generation,
      index: position.index,
      offset: position.offset,
      lagSeconds: this.lag.seconds(),
      lastSyncAt: this.lastSyncAt,
      lastError: this.conflict?.message ?? lastError,
      // Starting a generation (generation still null) is not a failure; failing to is.
      healthy: this.conflict === null && lastError === null,
      writerConflict: this.conflict && { generation: this.conflict.other.generation, host: this.conflict.other.host },
    };
  }

  metrics(): ReplicationMetrics {
    const counters = structuredClone(this.counters);
    return { ...counters, walBytes: statSync(this.walPath, { throwIfNoEntry: false })?.size ?? 0 };
  }

  stop(closeAppDatabase: () => void): Promise<void> {
    this.stopped ??= this.shutDown(closeAppDatabase);
    return this.stopped;
  }

  private get stopping(): boolean {
    return this.stopSignal.signal.aborted;
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
    const { stream } = this;
    if (this.dirty || stream.generation === null || stream.held || this.waiters.waiting) this.kick();
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
    if (!this.backoff.ready()) return;
    this.rerun = false;
    this.running = this.runOnce().finally(() => {
      this.running = null;
      this.events.emit("ran");
      if (this.rerun) this.kick();
    });
  }

  private async runOnce(): Promise<void> {
    try {
      const { stream } = this;
      let shipping: Shipping;
      if (stream.generation === null) {
        shipping = await this.startGeneration(stream.reason);
      } else {
        shipping = stream;
        if (!this.guard.holdsLease) await this.beforeUpload(shipping.generation); // at start: check before anything else
      }
      if (await this.syncOnce(shipping)) this.rerun = true;
    } catch (err) {
      if (err instanceof WriterConflictError) return; // handled by beforeUpload
      if (err instanceof WalDiscontinuityError) {
        this.logger.warn({ reason: err.message, replica: this.client.description }, "WAL continuity lost: starting a new generation");
        this.stream = { generation: null, reason: err.message };
        this.rerun = true;
        return;
      }
      this.failed(err);
    }
  }

  private succeeded(): void {
    if (this.backoff.succeed()) this.logger.info({ replica: this.client.description }, "replication recovered");
  }

  /** Logs when replication starts failing, not on every attempt; backs off exponentially. */
  private failed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.backoff.fail(message) && !this.stopping) {
      this.logger.error({ err: message, replica: this.client.description }, "replication failing; writes stay in the local WAL and will be retried");
    }
    this.counters.syncErrors += 1;
  }

  /** The single-writer checks; a conflict stops replication here, whoever the caller. */
  private beforeUpload(generation: string): Promise<void> {
    return this.stopOnConflict(() => this.guard.beforeUpload(generation));
  }

  /** One upload, after the single-writer checks and with the lease kept alive while it runs. */
  private upload<T>(generation: string, upload: () => Promise<T>): Promise<T> {
    return this.stopOnConflict(() => this.guard.whileUploading(generation, upload));
  }

  private async stopOnConflict<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
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
      { err: err.message, replica: this.client.description, generation: this.stream.generation, otherGeneration: err.other.generation, otherHost: err.other.host },
      "replication stopped: another writer uses this replica; restart this instance only once it is the only writer (see docs/replication.md, Single writer)",
    );
    this.waiters.rejectAll(err);
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
  private async startGeneration(reason: string): Promise<Shipping> {
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
        await this.upload(generation, () => this.uploadSnapshot(snapshotKey(generation, 0), image));
        if (mustFollow === null || attempt === 3) break;
        const uploadedAt = await this.newestObjectTime(generationPrefix(generation));
        if (uploadedAt === null || uploadedAt >= nextSecond(mustFollow)) break;
        wait = nextSecond(uploadedAt) - uploadedAt;
      }
    } finally {
      image.release();
    }
    const shipping: Shipping = {
      generation,
      position: image.walHeader ? startOfRound(0, image.walHeader) : roundStart(0),
      held: null,
      // With a pin, the round in place cannot grow unseen and then restart: frames added after
      // the image are not backfilled while the pin holds (a pin taken with everything
      // backfilled blocks all backfilling), and only a fully backfilled WAL restarts. So a
      // restart before anything was shipped means the round ended where the image did.
      expectedRestart: this.pin && image.walHeader ? expectRestartAfter(image.walHeader, image.walOffset) : null,
    };
    this.stream = shipping;
    this.snapshots.newGeneration(image.pageCount * image.pageSize);
    this.retention.newGeneration();
    this.logger.info({ generation, reason, replica: this.client.description }, "replication: new generation");
    return shipping;
  }

  /** The newest lastModified under `prefix`, in ms; null when there is nothing. */
  private async newestObjectTime(prefix: string): Promise<number | null> {
    let newest: number | null = null;
    for await (const object of this.client.list(prefix)) newest = Math.max(newest ?? 0, object.lastModified.getTime());
    return newest;
  }

  private maybeStartSnapshot(): void {
    const { stream } = this;
    if (this.snapshotTask || this.stopping || stream.generation === null || this.backoff.lastError !== null) return;
    const reason = this.snapshots.due((stream.held?.to ?? stream.position).index);
    if (reason === null) return;
    const { generation } = stream;
    this.snapshotTask = this.snapshot(stream)
      .then(
        (taken) => {
          if (taken) this.logger.info({ generation, reason }, "replication: snapshot");
        },
        (err: unknown) => {
          this.snapshots.failed();
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
  private async snapshot(stream: Shipping): Promise<boolean> {
    const image = captureDatabaseImage(this.snapshotDb, this.dbPath);
    try {
      const known = stream.held?.to ?? stream.position;
      // After our TRUNCATE (see Checkpointer.truncateWal) and before the next write, the
      // database file alone holds the round `known`, all of it shipped: as good an image
      // of it as before.
      const truncated = image.walHeader === null && stream.held === null && known.header !== null && stream.expectedRestart?.header.equals(known.header) === true;
      if (known.header && !truncated && !(image.walHeader && image.walHeader.equals(known.header))) return false;
      const index = known.index;
      if (index === this.snapshots.lastIndex || !(await this.shippedThrough(stream, index, image))) return false;
      await this.beforeUpload(stream.generation); // before `covered` is read, as the upload may wait for the lease
      const covered = this.snapshots.pendingBytes;
      await this.upload(stream.generation, () => this.uploadSnapshot(snapshotKey(stream.generation, index), image, this.stopSignal.signal));
      this.snapshots.taken(index, covered);
      this.retention.uploaded();
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

  private async shippedThrough(stream: Shipping, index: number, image: DatabaseImage): Promise<boolean> {
    for (;;) {
      if (this.stopping || this.stream !== stream) return false;
      const p = stream.position;
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
    const { stream } = this;
    if (this.retentionTask || this.stopping || stream.generation === null || !this.retention.take()) return;
    this.retentionTask = enforceRetention(this.client, stream.generation, this.config.retentionMs, this.logger)
      .then(
        () => undefined,
        (err: unknown) => {
          this.retention.failed();
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
  private async syncOnce(stream: Shipping, onCaughtUp?: () => void): Promise<boolean> {
    const readSeq = this.waiters.nextRead();
    this.dirty = false;
    const since = this.lag.startShipping();

    let segment: WalSegment | null;
    let caughtUp: boolean;
    let next: WalSegment | null;
    try {
      const { held } = stream;
      next = readWalTail(this.walPath, held?.to ?? stream.position, { nextRoundSalt1: stream.expectedRestart?.salt1 ?? null, maxBytes: this.maxSegmentBytes });
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
      this.stillUnshipped(since);
      throw err;
    }

    if (!segment) {
      this.lag.shipped();
      this.succeeded();
      this.waiters.shipped(readSeq);
      onCaughtUp?.();
      return false;
    }
    const compressed = lz4FrameEncode(segment.data);
    try {
      await this.upload(stream.generation, () => this.client.put(walSegmentKey(stream.generation, segment.from.index, segment.from.offset), compressed));
    } catch (err) {
      this.stillUnshipped(since);
      throw err;
    }
    this.commitUpload(stream, { segment, next, caughtUp, compressedBytes: compressed.length, readSeq, since });
    return !caughtUp;
  }

  /**
   * The segment is in the replica: advance the position, record the upload, resolve the
   * waiters it satisfies, then let the checkpointer run. One synchronous function on
   * purpose, called right after the upload's await: the checkpointer's read of what was
   * committed meanwhile and its checkpoint must start from the position this upload
   * reached with no write of the app in between (see ./ship/checkpointer.ts).
   */
  private commitUpload(stream: Shipping, upload: Upload): void {
    const { segment, next, compressedBytes } = upload;
    stream.position = segment.to;
    stream.held = null;
    this.lag.shipped();
    const expected = stream.expectedRestart;
    if (next && expected && (!next.to.header!.equals(expected.header) || next.to.offset > expected.end)) {
      stream.expectedRestart = null; // the expected restart came, or the round went on after all
    }
    this.lastSyncAt = new Date();
    this.retention.uploaded();
    this.counters.syncs += 1;
    this.counters.shippedBytes += compressedBytes;
    this.counters.shippedWalBytes += segment.data.length;
    this.succeeded(); // before resolving waiters, so that they see the healthy status
    this.snapshots.shipped(segment.data.length, segment.pageCount * segment.pageSize);
    if (upload.caughtUp) this.waiters.shipped(upload.readSeq);
    else this.stillUnshipped(upload.since);
    if (this.stopping) return;
    const full = this.checkpointer.checkpoint(stream.position);
    if (full) {
      stream.held = full.held;
      stream.expectedRestart = full.expectedRestart;
    }
  }

  /**
   * A sync covered commits from `since` on but did not ship them all: they still count for
   * the lag, and are still to do (after a failure, once the back-off ends, even if nothing
   * new is written).
   */
  private stillUnshipped(since: number | null): void {
    this.lag.stillUnshipped(since);
    this.dirty = true;
  }

  // ---- stopping ------------------------------------------------------------------------------

  private async shutDown(closeAppDatabase: () => void): Promise<void> {
    // A periodic snapshot can wait for the next run; a new generation's first one cannot:
    // without it nothing of this run reaches the replica, so it is left to finish.
    this.stopSignal.abort();
    clearInterval(this.timer);
    this.guard.interrupt(); // a wait for another writer's lease ends now
    this.events.emit("ran"); // wakes a snapshot waiting for the WAL to be shipped
    await Promise.allSettled([this.running, this.snapshotTask, this.retentionTask]);

    const closeAll = () => {
      this.pin?.close();
      this.snapshotDb.close();
      this.db.close();
      closeAppDatabase();
    };
    const shipping = this.stream.generation !== null && this.conflict === null ? this.stream : null;
    const flushed = shipping !== null && this.guard.holdsLease && (await this.flush(shipping, closeAll));
    if (!flushed) {
      if (shipping !== null) {
        if (this.backoff.lastError === null) this.backoff.fail(`writes were still arriving after ${formatDuration(this.config.syncTimeoutMs)} of flushing`);
        this.logger.error({ replica: this.client.description, err: this.backoff.lastError }, "replication: could not ship the last writes before stopping; the next start begins a new generation");
      }
      closeAll();
    }
    this.waiters.rejectAll(new Error("replication stopped"));
    if (flushed && shipping !== null) await this.persistPosition(shipping);
    if (this.conflict === null) await this.guard.release();
  }

  /**
   * Ships everything, then runs `closeAll` in the same synchronous step as the read that
   * found nothing left to ship. False (and `closeAll` not run) when that did not happen
   * within the sync timeout.
   */
  private async flush(stream: Shipping, closeAll: () => void): Promise<boolean> {
    const deadline = Date.now() + this.config.syncTimeoutMs;
    let closed = false;
    const close = () => {
      closeAll();
      closed = true;
    };
    while (!closed && Date.now() < deadline) {
      try {
        await this.syncOnce(stream, close);
      } catch (err) {
        if (err instanceof WalDiscontinuityError) {
          this.backoff.fail(err.message);
          return false;
        }
        if (err instanceof WriterConflictError) return false;
        this.failed(err);
        await delay(Math.max(0, Math.min(this.backoff.retryAt, deadline) - Date.now()));
      }
    }
    return closed;
  }

  /** After the app's close removed `-wal`, records where the next run continues. */
  private async persistPosition({ generation, position }: Shipping): Promise<void> {
    try {
      const wal = statSync(this.walPath, { throwIfNoEntry: false });
      if (wal && wal.size > 0) {
        this.logger.info({ wal: this.walPath }, "replication: the WAL outlived the database's close; the next start begins a new generation");
        return;
      }
      const index = position.header ? position.index + 1 : position.index;
      writePosition(this.dbPath, { generation, index, database: await fingerprintDatabase(this.dbPath) });
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, "replication: could not record the position; the next start begins a new generation");
    }
  }
}
