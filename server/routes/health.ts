// GET /healthz: the database and replication state as JSON, never cached (docs/api.md); in
// full on the main port only when that is the only port (no METRICS_ADDR).

import type { FastifyInstance } from "fastify";
import { reservedPath } from "../url-space.js";

/** What /healthz needs from replication; the rest of the status is shown as it is. */
export interface ReplicationHealth {
  readonly mode: "async" | "sync";
  /** False while uploads fail. */
  readonly healthy: boolean;
  /** Set when another instance writes the same replica: replication has stopped. */
  readonly writerConflict: unknown;
  readonly [detail: string]: unknown;
}

export interface HealthOptions {
  /** Throws when the database cannot be read. */
  readonly pingDatabase: () => void;
  /** Replication's state; absent without replication. */
  readonly replicationStatus?: () => ReplicationHealth;
}

/**
 * A replica outage is unhealthy only in sync mode, where uploads fail with it; in async
 * mode uploads go on and a restart would only lose the WAL not yet shipped. Another
 * writer is unhealthy in both: nothing is replicated any more.
 */
function replicationOk(replication: ReplicationHealth | null): boolean {
  if (!replication) return true;
  return replication.writerConflict === null && (replication.mode === "async" || replication.healthy);
}

export interface HealthReport {
  readonly code: 200 | 503;
  readonly body: { status: "ok" | "unhealthy"; database: string; replication: ReplicationHealth | { mode: string; healthy: boolean } | null };
}

/**
 * The health document. In full, the database's error and replication's whole state (its
 * target, last error, lag …); otherwise only whether each part is ok, for a /healthz anyone
 * can read while the details are served on METRICS_ADDR's private listener.
 */
export function healthReport({ pingDatabase, replicationStatus }: HealthOptions, full: boolean): HealthReport {
  let database = "ok";
  try {
    pingDatabase();
  } catch (err) {
    database = full ? (err as Error).message : "unavailable";
  }
  const replication = replicationStatus?.() ?? null;
  const healthy = database === "ok" && replicationOk(replication);
  return {
    code: healthy ? 200 : 503,
    body: {
      status: healthy ? "ok" : "unhealthy",
      database,
      replication: full || !replication ? replication : { mode: replication.mode, healthy: replicationOk(replication) },
    },
  };
}

export async function healthRoute(app: FastifyInstance, options: HealthOptions & { readonly full: boolean }): Promise<void> {
  app.get(reservedPath("healthz"), async (_req, reply) => {
    const { code, body } = healthReport(options, options.full);
    return reply.code(code).header("Cache-Control", "no-store").send(body);
  });
}
