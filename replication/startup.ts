// Start-up, before the app opens the database: restore it when it is missing, and decide
// whether this run continues the replica's generation or starts a new one.

import { existsSync, statSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import { DEFAULT_LEASE_TTL_MS, type ReplicationConfig } from "./config.js";
import { fingerprintDatabase } from "./sqlite/database-file.js";
import { generationPrefix, parseReplicaKey } from "./replica/layout.js";
import { removePosition, takePosition, type PersistedPosition } from "./writer/position.js";
import type { ConditionalReplicaClient, ReplicaClient } from "./replica/client.js";
import { NoReplicaError, restoreReplica, type RestoreProgress } from "./restore.js";
import { latestGeneration, summarizeReplica } from "./replica/summary.js";
import { liveLeaseHolder, type LeaseHolder } from "./writer/lease.js";
import { WriterRecord } from "./writer/record.js";
import { Replicator, type GenerationPlan, type ReplicatorOptions } from "./replicator.js";
import { WriterGuard } from "./writer/single-writer.js";
import { walPathOf } from "./sqlite/wal-tail.js";

/** What a start on an empty disk is doing, for the server to show (503 and /healthz) until it is ready. */
export type StartupPhase =
  | { readonly phase: "waiting"; readonly message: string; readonly holder: LeaseHolder | null }
  | { readonly phase: "restoring"; readonly progress: RestoreProgress };

export interface StartupOptions {
  /** Called as the start-up moves on: while it waits for another writer, and as a restore progresses. */
  readonly onPhase?: (phase: StartupPhase) => void;
  /** How often a waiting start reads the lease and lists the replica again. */
  readonly waitPollMs?: number;
}

/** Once a second: a LIST and a small GET per second, only while a start waits. */
const DEFAULT_WAIT_POLL_MS = 1_000;

interface StartupDecision {
  /** The database was missing and has been restored from the replica. */
  readonly restored: boolean;
  /** The generation restored from, when `restored`. */
  readonly restoredFrom: string | null;
  readonly plan: GenerationPlan;
}

/**
 * Database missing: restore it, or start fresh when the replica is empty; any other
 * failure to read the replica throws (never start empty over a replica that has data).
 * Database present: continue the generation of the last clean stop if the record of it
 * still matches both the database and the replica, else plan a new generation.
 */
async function decideStartup(
  dbPath: string, client: ConditionalReplicaClient, logger: Logger, leaseTtlMs: number, options: StartupOptions,
): Promise<StartupDecision> {
  const walPath = walPathOf(dbPath);
  const walBytes = statSync(walPath, { throwIfNoEntry: false })?.size ?? 0;
  const dbBytes = statSync(dbPath, { throwIfNoEntry: false })?.size;
  // An empty file (say, from `touch`) holds no database: replicating it would shadow the replica.
  if (dbBytes === undefined || (dbBytes === 0 && walBytes === 0)) {
    if (dbBytes === undefined && existsSync(walPath)) {
      throw new Error(`${dbPath} does not exist but ${walPath} does: a WAL without its database would be replayed over the restored one; move it away and start again`);
    }
    removePosition(dbPath);
    try {
      await waitForPreviousWriter(dbPath, client, logger, leaseTtlMs, options);
      const onProgress = (progress: RestoreProgress) => options.onPhase?.({ phase: "restoring", progress });
      onProgress({ bytes: 0, segments: 0, totalSegments: 0 });
      const result = await restoreReplica(client, { outputPath: dbPath, overwrite: dbBytes !== undefined, onProgress });
      logger.info({ db: dbPath, replica: client.description, generation: result.generation, index: result.index }, "restored the database from the replica");
      // The restored state is the replica's, but nothing proves the round it ended in was
      // complete: the simple, safe choice is a new generation.
      return { restored: true, restoredFrom: result.generation, plan: { kind: "new", reason: `restored from generation ${result.generation}` } };
    } catch (err) {
      if (err instanceof NoReplicaError) {
        logger.info({ db: dbPath, replica: client.description }, "no database and an empty replica: starting fresh");
        return { restored: false, restoredFrom: null, plan: { kind: "new", reason: "a new database" } };
      }
      throw new Error(`cannot restore ${dbPath} from ${client.description}: ${(err as Error).message}`, { cause: err });
    }
  }

  const { position, problem } = takePosition(dbPath);
  if (!position) return { restored: false, restoredFrom: null, plan: { kind: "new", reason: problem ?? "no record of a clean stop" } };
  const reason = await whyNotContinue(dbPath, position, client);
  if (typeof reason === "string") return { restored: false, restoredFrom: null, plan: { kind: "new", reason } };
  logger.info({ generation: position.generation, index: position.index }, "continuing the replica's generation after a clean stop");
  return { restored: false, restoredFrom: null, plan: { kind: "continue", generation: position.generation, index: position.index, lastSnapshot: reason.lastSnapshot } };
}

/**
 * An empty disk and a replica another instance is still writing is not "no replica yet":
 * a previous writer that still holds the lease (Heroku starts the new dyno while the old one
 * flushes; Fly replaces Machines in a rolling deploy) may be about to upload its first
 * snapshot or its last segments, and a restore now would miss them, or find nothing and
 * start empty. So wait while the lease is live, and while the newest generation has no
 * snapshot yet (a writer without a lease, Litestream say, is uploading it) for at most a
 * lease TTL, after which the restore decides (and fails on a generation with no snapshot).
 */
async function waitForPreviousWriter(
  dbPath: string, client: ConditionalReplicaClient, logger: Logger, leaseTtlMs: number, options: StartupOptions,
): Promise<void> {
  const owner = WriterRecord.load(dbPath, client.description).owner;
  let unfinishedSince: number | null = null;
  let logged: string | null = null;
  for (;;) {
    const holder = await liveLeaseHolder(client, owner);
    let message: string | null = null;
    if (holder) {
      message = `waiting for the previous writer (host ${holder.host}, lease until ${holder.expiresAt})`;
    } else {
      const newest = latestGeneration(await summarizeReplica(client));
      if (newest && newest.snapshots.length === 0) {
        unfinishedSince ??= Date.now();
        if (Date.now() - unfinishedSince < leaseTtlMs) message = `waiting for generation ${newest.id} to get its first snapshot`;
      }
    }
    if (message === null) return;
    options.onPhase?.({ phase: "waiting", message, holder });
    if (message !== logged) logger.warn({ db: dbPath, replica: client.description, holder }, message);
    logged = message;
    await delay(options.waitPollMs ?? DEFAULT_WAIT_POLL_MS);
  }
}

/** A reason to start a new generation, or when the record holds, the generation's newest snapshot. */
async function whyNotContinue(dbPath: string, position: PersistedPosition, client: ReplicaClient): Promise<string | { lastSnapshot: { index: number; at: Date } }> {
  const wal = statSync(walPathOf(dbPath), { throwIfNoEntry: false });
  if (wal && wal.size > 0) return "the WAL is not empty: the last run did not stop cleanly";
  const now = await fingerprintDatabase(dbPath);
  if (now.size !== position.database.size || now.sha256 !== position.database.sha256) {
    return "the database changed since the last clean stop";
  }
  let lastSnapshot: { index: number; at: Date } | null = null;
  let highestIndex = -1;
  try {
    for await (const object of client.list(generationPrefix(position.generation))) {
      const key = parseReplicaKey(object.key);
      if (!key) continue;
      highestIndex = Math.max(highestIndex, key.index);
      if (key.kind === "snapshot" && (!lastSnapshot || key.index > lastSnapshot.index)) lastSnapshot = { index: key.index, at: object.lastModified };
    }
  } catch (err) {
    return `cannot check generation ${position.generation} in ${client.description}: ${(err as Error).message}`;
  }
  if (!lastSnapshot) return `generation ${position.generation} has no snapshot in ${client.description}`;
  if (highestIndex >= position.index) {
    return `generation ${position.generation} in ${client.description} went on past this database (WAL index ${highestIndex})`;
  }
  return { lastSnapshot };
}

export type ReplicatorTuning = Omit<ReplicatorOptions, "dbPath" | "client" | "config" | "logger" | "plan" | "guard">;

export interface PreparedReplicator {
  readonly restored: boolean;
  start(): Replicator;
}

/** prepareReplication with a given client and tuning (what tests and the replicate command use). */
export async function prepareReplicator(
  dbPath: string,
  config: ReplicationConfig,
  logger: Logger,
  /** Conditional writes for the replica lease; the rest of replication uses it as a plain ReplicaClient. */
  client: ConditionalReplicaClient,
  tuning: ReplicatorTuning = {},
  startup: StartupOptions = {},
): Promise<PreparedReplicator> {
  const leaseTtlMs = config.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const { restored, restoredFrom, plan } = await decideStartup(dbPath, client, logger, leaseTtlMs, startup);
  let started = false;
  return {
    restored,
    start() {
      if (started) throw new Error("replication already started");
      started = true;
      const guard = new WriterGuard({ dbPath, client, leaseTtlMs, logger, restoredFrom });
      return new Replicator({ ...tuning, dbPath, client, config, logger, plan, guard });
    },
  };
}
