// What replication has done since start, as plain numbers. The server turns them into
// Prometheus series when /metrics is scraped (server/metrics.ts); replication itself knows
// nothing of Prometheus.

export type CheckpointMode = "passive" | "truncate";

export interface ReplicationCounters {
  /** WAL segments uploaded. */
  syncs: number;
  /** Failed attempts to ship (a segment, or a new generation's first snapshot). */
  syncErrors: number;
  /** Bytes of the uploaded segments, LZ4-compressed: what the object store received. */
  shippedBytes: number;
  /** The WAL bytes those segments hold, before compression. */
  shippedWalBytes: number;
  /** Checkpoints the replicator ran, by mode. */
  checkpoints: Record<CheckpointMode, number>;
  /** Snapshots uploaded, and the seconds their uploads took in all. */
  snapshots: number;
  snapshotSeconds: number;
  /** Requests sent to the object store, by operation (S3's names, e.g. PutObject). */
  objectStoreRequests: Record<string, number>;
}

export function newReplicationCounters(): ReplicationCounters {
  return {
    syncs: 0,
    syncErrors: 0,
    shippedBytes: 0,
    shippedWalBytes: 0,
    checkpoints: { passive: 0, truncate: 0 },
    snapshots: 0,
    snapshotSeconds: 0,
    objectStoreRequests: {},
  };
}

/** An `onRequest` hook for replica clients that counts into `counters`. */
export function requestCounter(counters: ReplicationCounters): (operation: string) => void {
  return (operation) => {
    counters.objectStoreRequests[operation] = (counters.objectStoreRequests[operation] ?? 0) + 1;
  };
}

/** The counters plus what is read from the disk at the moment of asking. */
export interface ReplicationMetrics extends ReplicationCounters {
  /** Size of the `-wal` file now (0 when there is none). */
  readonly walBytes: number;
}
