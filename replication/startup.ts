// Start-up, before the app opens the database: restore it when it is missing, and decide
// whether this run continues the replica's generation or starts a new one.

import { existsSync, statSync } from "node:fs";
import type { Logger } from "pino";
import { DEFAULT_LEASE_TTL_MS, type ReplicationConfig } from "./config.js";
import { fingerprintDatabase } from "./sqlite/database-file.js";
import { generationPrefix, parseReplicaKey } from "./replica/layout.js";
import { removePosition, takePosition, type PersistedPosition } from "./writer/position.js";
import type { ConditionalReplicaClient, ReplicaClient } from "./replica/client.js";
import { NoReplicaError, restoreReplica } from "./restore.js";
import { Replicator, type GenerationPlan, type ReplicatorOptions } from "./replicator.js";
import { WriterGuard } from "./writer/single-writer.js";
import { walPathOf } from "./sqlite/wal-tail.js";

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
async function decideStartup(dbPath: string, client: ReplicaClient, logger: Logger): Promise<StartupDecision> {
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
      const result = await restoreReplica(client, { outputPath: dbPath, overwrite: dbBytes !== undefined });
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
): Promise<PreparedReplicator> {
  const { restored, restoredFrom, plan } = await decideStartup(dbPath, client, logger);
  let started = false;
  return {
    restored,
    start() {
      if (started) throw new Error("replication already started");
      started = true;
      const leaseTtlMs = config.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
      const guard = new WriterGuard({ dbPath, client, leaseTtlMs, logger, restoredFrom });
      return new Replicator({ ...tuning, dbPath, client, config, logger, plan, guard });
    },
  };
}
