// What the replication scenarios add to a litepaste server (started by
// testkit/litepaste-process.ts, as every server of the tests and the bench is).

import type { BenchObjectStore } from "../scenario.js";

/** The settings that make litepaste replicate to the bench's store under `prefix`. */
export function replicaEnv(store: BenchObjectStore, prefix: string, mode: "async" | "sync" = "async"): Record<string, string> {
  return { ...store.env, DB_REPLICA_URL: store.url(prefix), DB_SYNC_MODE: mode };
}

/**
 * Checks that replication kept up without errors: a throughput number measured while
 * uploads failed would compare nothing. Returns the /healthz replication object.
 */
export async function assertReplicationHealthy(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/healthz`);
  const body = (await res.json()) as { replication: Record<string, unknown> | null };
  if (res.status !== 200 || !body.replication || body.replication.lastError !== null) {
    throw new Error(`replication is not healthy after the load: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.replication;
}
