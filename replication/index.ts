// Built-in replication: what the server calls, and the only module of replication/ that
// server/ may import (eslint.config.js enforces it). See docs/design/replication.md.
//
//   const prepared = await prepareReplication(dbPath, config, logger); // before opening the database
//   const store = openStore(dbPath, …);                                  // journal_mode=WAL, wal_autocheckpoint=0
//   const replication = prepared.start();
//   store.onCommit(() => replication.notifyCommit());
//   …
//   await replication.stop(() => store.close());

import type { Logger } from "pino";
import type { ReplicationConfig } from "./config.js";
import { newReplicationCounters, requestCounter, type ReplicationMetrics } from "./counters.js";
import type { ReplicationStatus } from "./replicator.js";
import type { StartupOptions } from "./startup.js";

// Light on purpose: the server's configuration imports this module for every command
// (a cold `litepaste restore` included), so the replica clients, SQLite and the
// replicator load only when replication is prepared (see prepareReplication).
export { ReplicationTimeoutError } from "./commit-waiters.js";
export type { ReplicationStatus } from "./replicator.js";
export type { StartupOptions, StartupPhase } from "./startup.js";
export type { CheckpointMode, ReplicationMetrics } from "./counters.js";
export {
  DEFAULT_LEASE_TTL_MS, DEFAULT_RETENTION_MS, DEFAULT_SNAPSHOT_INTERVAL_MS, DEFAULT_SYNC_INTERVAL_MS, DEFAULT_SYNC_MODE,
  DEFAULT_SYNC_TIMEOUT_MS, REPLICATION_DEFAULTS, type ReplicationConfig,
} from "./config.js";

export interface PreparedReplication {
  /** The database was missing and was restored from the replica. */
  readonly restored: boolean;
  /** Starts replicating; call once the app's own connection is open. */
  start(): Replication;
}

export interface Replication {
  /** The app committed a write transaction. Cheap: call it on every write. */
  notifyCommit(): void;
  /**
   * Resolves once every commit made so far is in the replica; concurrent callers share
   * one upload. Rejects with ReplicationTimeoutError after the configured sync timeout.
   */
  waitUntilReplicated(): Promise<void>;
  status(): ReplicationStatus;
  /** What replication has done since start (object-store requests of the start-up restore included). */
  metrics(): ReplicationMetrics;
  /**
   * Ships what is pending, closes the replicator's connections, calls `closeAppDatabase`
   * (the app's last connection: SQLite checkpoints and removes -wal), then records the
   * position so that the next start continues the same generation.
   */
  stop(closeAppDatabase: () => void): Promise<void>;
}

/**
 * Before the app opens the database: restores it if it is missing and the replica has data
 * (throws a clear Error if the replica cannot be read: the server must exit non-zero rather
 * than start empty), starts fresh if the replica is empty, and checks the record of the
 * last clean stop so that a clean restart continues the same generation. On an empty disk it
 * first waits while another writer still holds the replica lease; `startup.onPhase` hears
 * of that wait and of the restore's progress.
 */
export async function prepareReplication(
  dbPath: string, config: ReplicationConfig, logger: Logger, startup: StartupOptions = {},
): Promise<PreparedReplication> {
  const [{ openReplicaClient }, { prepareReplicator }] = await Promise.all([import("./replica/url.js"), import("./startup.js")]);
  const counters = newReplicationCounters();
  const client = openReplicaClient(config.replicaUrl, process.env, {
    onRequest: requestCounter(counters),
    onWarning: (message) => logger.warn(message),
  });
  return prepareReplicator(dbPath, config, logger, client, { counters }, startup);
}
