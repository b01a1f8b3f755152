/** Replication settings, validated once at start-up by the server's configuration (or the CLI). */
export interface ReplicationConfig {
  /** `s3://bucket/path?endpoint=…`, `file:///dir` or a plain directory path. */
  readonly replicaUrl: string;
  /** `async`: acknowledge on local commit; `sync`: acknowledge once the replica holds the commit. */
  readonly syncMode: "async" | "sync";
  readonly syncIntervalMs: number;
  readonly syncTimeoutMs: number;
  readonly snapshotIntervalMs: number;
  readonly retentionMs: number;
  /** How long the replica lease lasts unrenewed (DEFAULT_LEASE_TTL_MS when absent). */
  readonly leaseTtlMs?: number;
}

export const DEFAULT_SYNC_MODE = "async";
/** Litestream's default sync interval. */
export const DEFAULT_SYNC_INTERVAL_MS = 1000;
/** How long a sync-mode upload waits for the replica, and a clean stop for the last writes. */
export const DEFAULT_SYNC_TIMEOUT_MS = 10_000;
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 24 * 3_600_000;
/** Litestream's default retention. */
export const DEFAULT_RETENTION_MS = 24 * 3_600_000;
export const DEFAULT_LEASE_TTL_MS = 30_000;

/** The defaults above by ReplicationConfig field, for tables of settings (the server's flags, the replicate command). */
export const REPLICATION_DEFAULTS = {
  syncMode: DEFAULT_SYNC_MODE,
  syncIntervalMs: DEFAULT_SYNC_INTERVAL_MS,
  syncTimeoutMs: DEFAULT_SYNC_TIMEOUT_MS,
  snapshotIntervalMs: DEFAULT_SNAPSHOT_INTERVAL_MS,
  retentionMs: DEFAULT_RETENTION_MS,
  leaseTtlMs: DEFAULT_LEASE_TTL_MS,
} as const;
