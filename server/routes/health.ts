// GET /healthz: the database and replication state as JSON, never cached (docs/api.md).

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

export async function healthRoute(app: FastifyInstance, { pingDatabase, replicationStatus }: HealthOptions): Promise<void> {
  app.get(reservedPath("healthz"), async (_req, reply) => {
    let database = "ok";
    try {
      pingDatabase();
    } catch (err) {
      database = (err as Error).message;
    }
    const replication = replicationStatus?.() ?? null;
    const healthy = database === "ok" && replicationOk(replication);
    return reply
      .code(healthy ? 200 : 503)
      .header("Cache-Control", "no-store")
      .send({ status: healthy ? "ok" : "unhealthy", database, replication });
  });
}
