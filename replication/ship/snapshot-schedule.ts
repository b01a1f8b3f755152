// When the replicator takes a periodic snapshot of the current generation: once the
// snapshot interval has passed and something was shipped since the last one, or as soon
// as the WAL shipped since then outgrows the database (a restore would replay more WAL
// than a snapshot weighs). Never twice in one WAL index, and not right after a failure.

/** Shipping more WAL than the database's size triggers a snapshot, but never below this. */
export const DEFAULT_MIN_SNAPSHOT_TRIGGER_BYTES = 1 << 20;

export type SnapshotReason = "interval" | "WAL larger than the database";

export interface SnapshotScheduleOptions {
  readonly intervalMs: number;
  readonly minTriggerBytes?: number;
  /** After a failed snapshot, the next attempt waits this long. */
  readonly retryDelayMs: number;
}

/** The newest snapshot of the generation: the WAL index it is named after, and when it was taken. */
export interface LastSnapshot {
  readonly index: number;
  /** ms since the epoch */
  readonly at: number;
}

export class SnapshotSchedule {
  private readonly intervalMs: number;
  private readonly minTriggerBytes: number;
  private readonly retryDelayMs: number;
  private last: LastSnapshot;
  /** WAL bytes shipped since the last snapshot (uncompressed). */
  private shippedBytes = 0;
  private databaseBytes: number;
  private retryAt = 0;

  /** `last` and `databaseBytes`: the generation this run continues, if any. */
  constructor(options: SnapshotScheduleOptions, last: LastSnapshot = { index: 0, at: 0 }, databaseBytes = 0) {
    this.intervalMs = options.intervalMs;
    this.minTriggerBytes = options.minTriggerBytes ?? DEFAULT_MIN_SNAPSHOT_TRIGGER_BYTES;
    this.retryDelayMs = options.retryDelayMs;
    this.last = last;
    this.databaseBytes = databaseBytes;
  }

  get lastIndex(): number {
    return this.last.index;
  }

  /** WAL bytes a snapshot taken now would cover: pass them to taken() once it is uploaded. */
  get pendingBytes(): number {
    return this.shippedBytes;
  }

  /** A new generation began with its snapshot at index 0 of a database this large. */
  newGeneration(databaseBytes: number, now = Date.now()): void {
    this.last = { index: 0, at: now };
    this.shippedBytes = 0;
    this.databaseBytes = databaseBytes;
  }

  /** A segment of `walBytes` was shipped; after it the database is `databaseBytes` large. */
  shipped(walBytes: number, databaseBytes: number): void {
    this.shippedBytes += walBytes;
    this.databaseBytes = databaseBytes;
  }

  /** Why a snapshot in WAL index `index` is due now; null when none is. */
  due(index: number, now = Date.now()): SnapshotReason | null {
    if (now < this.retryAt) return null;
    // One snapshot per WAL index: another one at the same index would replace it (same
    // key), and a point-in-time restore to before the replacement would lose its start.
    if (index === this.last.index) return null;
    // An idle database needs no new snapshot: the last one and the WAL after it restore it.
    if (now - this.last.at >= this.intervalMs && this.shippedBytes > 0) return "interval";
    if (this.shippedBytes > Math.max(this.databaseBytes, this.minTriggerBytes)) return "WAL larger than the database";
    return null;
  }

  /** A snapshot at `index` is in the replica; it covers `coveredBytes` of pendingBytes (more may have been shipped meanwhile). */
  taken(index: number, coveredBytes: number, now = Date.now()): void {
    this.last = { index, at: now };
    this.shippedBytes -= coveredBytes;
  }

  failed(now = Date.now()): void {
    this.retryAt = now + this.retryDelayMs;
  }
}
