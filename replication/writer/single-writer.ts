// Single writer: two instances shipping to one replica path would interleave generations
// and corrupt it. Before its first upload an instance checks that the replica's newest
// generation is one this database wrote (or was restored from), then takes the replica
// lease (./lease.ts); before every later upload it renews the lease when due, and while any
// upload runs it renews it every third of its TTL (one upload may outlast the TTL). Any sign
// of another writer is a WriterConflictError, and the replicator stops uploading for good.

import type { Logger } from "pino";
import { ReplicaLease, WriterConflictError } from "./lease.js";
import type { ConditionalReplicaClient, ReplicaClient } from "../replica/client.js";
import { findLatestGeneration } from "../replica/summary.js";
import { WriterRecord } from "./record.js";

export { WriterConflictError } from "./lease.js";

export interface WriterGuardOptions {
  readonly dbPath: string;
  readonly client: ConditionalReplicaClient;
  readonly leaseTtlMs: number;
  readonly logger: Logger;
  /** The generation the database was just restored from: its state is the replica's. */
  readonly restoredFrom: string | null;
}

export class WriterGuard {
  private readonly client: ReplicaClient;
  private readonly record: WriterRecord;
  private readonly lease: ReplicaLease;
  private readonly restoredFrom: string | null;
  private readonly leaseTtlMs: number;
  private readonly logger: Logger;
  private checked = false;
  /** Uploads in flight, and the timer that renews the lease while there are any. */
  private uploading = 0;
  private keepAliveTimer: NodeJS.Timeout | null = null;
  /** A conflict found by a renewal during an upload: the uploads in flight end with it. */
  private keepAliveConflict: WriterConflictError | null = null;
  /** Lease operations one at a time: two concurrent renewals would each see the other's etag. */
  private tail: Promise<void> = Promise.resolve();

  constructor(options: WriterGuardOptions) {
    this.client = options.client;
    this.record = WriterRecord.load(options.dbPath, options.client.description);
    this.restoredFrom = options.restoredFrom;
    this.leaseTtlMs = options.leaseTtlMs;
    this.logger = options.logger;
    this.lease = new ReplicaLease({ client: options.client, ttlMs: options.leaseTtlMs, owner: this.record.owner, logger: options.logger });
  }

  get holdsLease(): boolean {
    return this.lease.holds;
  }

  /**
   * Before an upload to `generation`: the start-up check and the lease the first time, a
   * renewal when due afterwards. Throws WriterConflictError.
   */
  beforeUpload(generation: string): Promise<void> {
    return this.serially(async () => {
      if (!this.checked) {
        await this.checkNewestGeneration();
        this.checked = true;
      }
      await this.lease.renewIfDue(generation);
      // Recorded before anything of the generation is uploaded: a crash between the two
      // must not make our own generation look like someone else's at the next start.
      this.record.remember(generation);
    });
  }

  /**
   * One upload to `generation`: beforeUpload, then `upload` with the lease renewed every
   * third of its TTL until it ends, so that a long upload (a large snapshot) does not let
   * the lease expire and a new instance take an unfinished generation for none. A conflict
   * found meanwhile is thrown once the upload has ended (it may still be reading what it
   * sends); a store error is logged and the next renewal tries again.
   */
  async whileUploading<T>(generation: string, upload: () => Promise<T>): Promise<T> {
    await this.beforeUpload(generation);
    if (this.keepAliveConflict) throw this.keepAliveConflict;
    if (this.uploading++ === 0) this.keepAliveTimer = setInterval(() => this.renewDuringUpload(), this.leaseTtlMs / 3);
    let result: T;
    try {
      result = await upload();
    } finally {
      if (--this.uploading === 0) {
        clearInterval(this.keepAliveTimer!);
        this.keepAliveTimer = null;
      }
    }
    if (this.keepAliveConflict) throw this.keepAliveConflict;
    return result;
  }

  private renewDuringUpload(): void {
    if (this.keepAliveConflict) return;
    this.serially(() => this.lease.keepAlive()).catch((err: unknown) => {
      if (err instanceof WriterConflictError) {
        this.keepAliveConflict = err;
        return;
      }
      this.logger.warn({ err: (err as Error).message, replica: this.client.description }, "could not renew the replica lease during an upload; retrying");
    });
  }

  /** Ends a wait for another writer's lease: the replicator is stopping. */
  interrupt(): void {
    this.lease.interrupt();
  }

  /** At a clean stop: the next writer (a restart of ours or another instance) need not wait. */
  release(): Promise<void> {
    return this.serially(() => this.lease.release());
  }

  /** The replica's newest generation must be one this database knows; a database with no history is not checked. */
  private async checkNewestGeneration(): Promise<void> {
    if (this.restoredFrom !== null) this.record.remember(this.restoredFrom);
    this.record.ensureSaved();
    const ours = this.record.generations;
    if (ours.length === 0) return;
    const newest = await findLatestGeneration(this.client);
    if (newest === undefined || ours.includes(newest)) return;
    throw new WriterConflictError(
      `the replica's newest generation ${newest} in ${this.client.description} was not written by this database ` +
        `(it last wrote ${ours.at(-1)}): another instance replicates there`,
      { owner: null, generation: newest, host: null },
    );
  }

  private serially(fn: () => Promise<void>): Promise<void> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
