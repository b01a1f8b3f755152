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
  /** How long the replica lease lasts unrenewed (REPLICATION_DEFAULTS.leaseTtlMs when absent). */
  readonly leaseTtlMs?: number;
}

export const REPLICATION_DEFAULTS = {
  syncMode: "async",
  syncIntervalMs: 1000,
  syncTimeoutMs: 10_000,
  snapshotIntervalMs: 24 * 3_600_000,
  retentionMs: 24 * 3_600_000,
  leaseTtlMs: 30_000,
} as const;
