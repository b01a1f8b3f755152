// The replica lease: one object at the replica's root, outside `generations/` (restore,
// ours and Litestream's, reads only that), naming the one instance allowed to write.
//
// Where the store has conditional writes (AWS S3, R2, MinIO, Tigris, directories) the lease
// is created with If-None-Match and renewed with If-Match on the etag we last wrote: a
// renewal that fails means another writer took it. Elsewhere (s3rver, old MinIO, …) it is
// written unconditionally and read back before each renewal: best effort, with a race
// window between that read and the write.
//
// Cost: the lease is written before an upload when it is older than a third of its TTL (or
// names an older generation), and every third of its TTL while an upload runs, so that one
// upload longer than the TTL (a large first snapshot) does not let it expire: no request
// while idle. An idle holder's lease expires and another instance may take it; the holder
// finds out at its next upload.

import { randomBytes } from "node:crypto";
import os from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import { ConditionalWritesUnsupportedError, type ConditionalReplicaClient } from "../replica/client.js";

export const LEASE_KEY = "litepaste-lease.json";
/** Slack over the holder's expiry before taking over, for clocks that disagree a little. */
const TAKEOVER_MARGIN_MS = 500;

interface LeaseBody {
  readonly owner: string;
  readonly generation: string;
  readonly host: string;
  readonly pid: number;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

export interface OtherWriter {
  readonly owner: string | null;
  readonly generation: string | null;
  readonly host: string | null;
}

/** Another instance writes the same replica: this one must stop uploading. */
export class WriterConflictError extends Error {
  override name = "WriterConflictError";
  constructor(message: string, readonly other: OtherWriter) {
    super(message);
  }
}

function parseLease(body: Buffer): LeaseBody | null {
  try {
    const v = JSON.parse(body.toString("utf8")) as LeaseBody;
    const valid = typeof v === "object" && v !== null && typeof v.owner === "string" && typeof v.generation === "string" &&
      typeof v.host === "string" && typeof v.expiresAt === "string" && !Number.isNaN(Date.parse(v.expiresAt));
    return valid ? v : null;
  } catch {
    return null;
  }
}

function conflictWith(holder: LeaseBody | null, client: ConditionalReplicaClient): WriterConflictError {
  if (!holder) {
    return new WriterConflictError(`the replica lease in ${client.description} was replaced by something unreadable: another program writes there`, { owner: null, generation: null, host: null });
  }
  return new WriterConflictError(
    `another writer holds the replica lease in ${client.description}: generation ${holder.generation}, host ${holder.host}, pid ${holder.pid}`,
    { owner: holder.owner, generation: holder.generation, host: holder.host },
  );
}

/** Who holds the replica lease, as a new instance sees it before it restores. */
export interface LeaseHolder {
  readonly host: string;
  readonly generation: string;
  readonly expiresAt: string;
}

/**
 * The replica lease when another writer holds it and it has not expired (nor been released,
 * which marks it expired); null when it is free or is `owner`'s (an earlier run on this
 * disk). A plain read: on stores without conditional writes the lease is still written, best
 * effort, and this reads it alike. An unreadable body is not a live lease.
 */
export async function liveLeaseHolder(client: ConditionalReplicaClient, owner: string): Promise<LeaseHolder | null> {
  const current = await client.getVersioned(LEASE_KEY);
  const holder = current && parseLease(current.body);
  if (!holder || holder.owner === owner || Date.parse(holder.expiresAt) <= Date.now()) return null;
  return { host: holder.host, generation: holder.generation, expiresAt: holder.expiresAt };
}

/**
 * Whether the store honours If-None-Match and If-Match on PutObject. Some accept the headers
 * and ignore them, so this tries them on a throw-away object: a second create must fail, a
 * swap on a wrong etag must fail, one on the right etag must succeed.
 */
export async function probeConditionalWrites(client: ConditionalReplicaClient): Promise<boolean> {
  const key = `${LEASE_KEY}.probe-${randomBytes(6).toString("hex")}`;
  try {
    const etag = await client.putIfAbsent(key, Buffer.from("1"));
    if (etag === null) return false;
    const second = await client.putIfAbsent(key, Buffer.from("2"));
    const stale = await client.putIfMatch(key, Buffer.from("3"), `"${"0".repeat(32)}"`);
    const swapped = await client.putIfMatch(key, Buffer.from("4"), etag);
    return second === null && stale === null && swapped !== null;
  } catch (err) {
    if (err instanceof ConditionalWritesUnsupportedError) return false;
    throw err;
  } finally {
    await client.delete([key]).catch(() => undefined); // a leftover probe object harms nothing
  }
}

export interface LeaseOptions {
  readonly client: ConditionalReplicaClient;
  readonly ttlMs: number;
  /** This database's writer id (see ./writer-record.ts). */
  readonly owner: string;
  readonly logger: Logger;
}

export class ReplicaLease {
  private readonly client: ConditionalReplicaClient;
  private readonly ttlMs: number;
  private readonly owner: string;
  private readonly logger: Logger;
  private readonly aborted = new AbortController();

  private conditional: boolean | null = null;
  private held = false;
  /** What we last wrote (conditional mode). */
  private etag: string | null = null;
  private writtenAt = 0;
  private generation = "";
  private acquiredAt = "";

  constructor(options: LeaseOptions) {
    this.client = options.client;
    this.ttlMs = options.ttlMs;
    this.owner = options.owner;
    this.logger = options.logger;
  }

  get holds(): boolean {
    return this.held;
  }

  /**
   * Takes the lease. Absent, released, expired or left by an earlier run of this database:
   * at once. Held by another live writer: waits until it expires (at most the TTL), then
   * takes it if it did not change meanwhile; a renewal during the wait is a conflict.
   */
  async acquire(generation: string): Promise<void> {
    if (this.conditional === null) {
      this.conditional = await probeConditionalWrites(this.client);
      if (!this.conditional) {
        this.logger.warn(
          { replica: this.client.description },
          "lease unavailable: the replica store does not support conditional writes (If-None-Match/If-Match); " +
            "falling back to best-effort detection of a second writer, which has a race window",
        );
      }
    }
    let waitedOn: string | null = null;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const current = await this.client.getVersioned(LEASE_KEY);
      if (!current) {
        if (await this.write(generation, null)) return;
        continue;
      }
      const holder = parseLease(current.body);
      const free = holder === null || holder.owner === this.owner || Date.parse(holder.expiresAt) <= Date.now() || current.etag === waitedOn;
      if (free) {
        if (await this.write(generation, current.etag)) return;
        continue;
      }
      if (waitedOn !== null) throw conflictWith(holder, this.client); // it renewed while we waited: alive
      const wait = Math.min(Math.max(Date.parse(holder.expiresAt) - Date.now(), 0), this.ttlMs) + TAKEOVER_MARGIN_MS;
      this.logger.warn(
        { replica: this.client.description, otherGeneration: holder.generation, otherHost: holder.host, waitMs: wait },
        "replica lease held by another writer: waiting for it to expire before replicating",
      );
      await delay(wait, undefined, { signal: this.aborted.signal });
      waitedOn = current.etag;
    }
    throw new Error(`could not take the replica lease in ${this.client.description}: it kept changing`);
  }

  /** Before an upload: rewrites the lease when it names another generation or is a third of its TTL old. */
  async renewIfDue(generation: string): Promise<void> {
    if (!this.held) return this.acquire(generation);
    if (generation === this.generation && Date.now() - this.writtenAt < this.ttlMs / 3) return;
    await this.renew(generation);
  }

  /** While an upload runs: rewrites the lease now, unless it was released meanwhile (a stop). */
  async keepAlive(): Promise<void> {
    if (this.held) await this.renew(this.generation);
  }

  private async renew(generation: string): Promise<void> {
    for (let attempt = 1; attempt <= 2; attempt++) {
      if (this.conditional && (await this.write(generation, this.etag))) return;
      const current = await this.client.getVersioned(LEASE_KEY);
      if (!current) {
        // Deleted (by hand): nobody holds it, so take it again.
        if (await this.write(generation, null)) return;
        continue;
      }
      const holder = parseLease(current.body);
      if (holder?.owner !== this.owner) throw conflictWith(holder, this.client);
      // Ours: a write of ours whose answer was lost (conditional), or best effort's read-before-write.
      this.etag = current.etag;
      if (!this.conditional && (await this.write(generation, null))) return;
    }
    throw new Error(`could not renew the replica lease in ${this.client.description}: it kept changing`);
  }

  /** Marks the lease expired (at a clean stop), so that the next writer need not wait. */
  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    const body = this.body(this.generation, Date.now());
    try {
      if (this.conditional) {
        await this.client.putIfMatch(LEASE_KEY, body, this.etag!);
      } else if (parseLease((await this.client.getVersioned(LEASE_KEY))?.body ?? Buffer.alloc(0))?.owner === this.owner) {
        await this.client.put(LEASE_KEY, body);
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, replica: this.client.description }, "could not release the replica lease; it expires by itself");
    }
  }

  /** Ends a wait for another writer's lease (the replicator is stopping). */
  interrupt(): void {
    this.aborted.abort();
  }

  /**
   * Writes the lease: conditionally (create when `expectedEtag` is null, else swap), or in
   * best-effort mode unconditionally and read back. False when the condition failed.
   */
  private async write(generation: string, expectedEtag: string | null): Promise<boolean> {
    const now = Date.now();
    if (!this.held) this.acquiredAt = new Date(now).toISOString();
    const body = this.body(generation, now + this.ttlMs);
    if (this.conditional) {
      const etag = expectedEtag === null ? await this.client.putIfAbsent(LEASE_KEY, body) : await this.client.putIfMatch(LEASE_KEY, body, expectedEtag);
      if (etag === null) return false;
      this.etag = etag;
    } else {
      await this.client.put(LEASE_KEY, body);
      if (!this.held) {
        const back = await this.client.getVersioned(LEASE_KEY);
        const holder = back && parseLease(back.body);
        if (holder?.owner !== this.owner) throw conflictWith(holder ?? null, this.client);
      }
    }
    this.held = true;
    this.writtenAt = now;
    this.generation = generation;
    return true;
  }

  private body(generation: string, expiresAt: number): Buffer {
    const lease: LeaseBody = {
      owner: this.owner, generation, host: os.hostname(), pid: process.pid, acquiredAt: this.acquiredAt, expiresAt: new Date(expiresAt).toISOString(),
    };
    return Buffer.from(`${JSON.stringify(lease, null, 2)}\n`);
  }
}
