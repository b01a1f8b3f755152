// Single writer: two instances shipping to one replica path would interleave generations
// and corrupt it. Before its first upload an instance checks that the replica's newest
// generation is one this database wrote (or was restored from), then takes the replica
// lease (./lease.ts); before every later upload it renews the lease when due. Any sign of
// another writer is a WriterConflictError, and the replicator stops uploading for good.

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
  private checked = false;
  /** Lease operations one at a time: two concurrent renewals would each see the other's etag. */
  private tail: Promise<void> = Promise.resolve();

  constructor(options: WriterGuardOptions) {
    this.client = options.client;
    this.record = WriterRecord.load(options.dbPath, options.client.description);
    this.restoredFrom = options.restoredFrom;
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
