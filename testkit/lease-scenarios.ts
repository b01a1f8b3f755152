// The steps that the conditional-write and lease tests of every backend with conditional
// writes (a directory, Azure Blob, SFTP) take alike; what each backend must then show stays
// in its own test.

import assert from "node:assert/strict";
import type { ConditionalReplicaClient, VersionedObject } from "../replication/replica/client.js";
import { LEASE_KEY, ReplicaLease } from "../replication/writer/lease.js";
import { testLogger } from "./test-logger.js";

/** How many writers race for one key. */
const RACING_WRITERS = 8;
/** How often a holder kept renewing calls renewIfDue (it renews only when due). */
const RENEW_POLL_MS = 50;

export function lease(client: ConditionalReplicaClient, owner: string, ttlMs = 600): ReplicaLease {
  return new ReplicaLease({ client, ttlMs, owner, logger: testLogger() });
}

/** The lease object as stored. */
export async function leaseHolder(client: ConditionalReplicaClient): Promise<{ owner: string; generation: string; expiresAt: string }> {
  const current = await client.getVersioned(LEASE_KEY);
  assert.ok(current, "the lease object exists");
  return JSON.parse(current.body.toString()) as { owner: string; generation: string; expiresAt: string };
}

/**
 * Writers that each create LEASE_KEY at the same time: exactly one wins, and the object is
 * the winner's. Returns each writer's putIfAbsent result, the winners and the stored object.
 */
export async function raceCreates(client: ConditionalReplicaClient): Promise<{ results: (string | null)[]; winners: number[]; stored: VersionedObject | null }> {
  const bodies = Array.from({ length: RACING_WRITERS }, (_, i) => Buffer.from(`writer ${i}`));
  const results = await Promise.all(bodies.map((body) => client.putIfAbsent(LEASE_KEY, body)));
  const winners = results.flatMap((etag, i) => (etag === null ? [] : [i]));
  assert.equal(winners.length, 1);
  const stored = await client.getVersioned(LEASE_KEY);
  assert.deepEqual(stored?.body, bodies[winners[0]!]);
  return { results, winners, stored };
}

/** Runs `fn` while `holder` keeps renewing its lease for `generation` (as it does before uploads while it writes). */
export async function whileRenewing<T>(holder: ReplicaLease, generation: string, fn: () => Promise<T>): Promise<T> {
  let renewing = true;
  const renewals = (async () => {
    while (renewing) {
      await holder.renewIfDue(generation);
      await new Promise((r) => setTimeout(r, RENEW_POLL_MS));
    }
  })();
  try {
    return await fn();
  } finally {
    renewing = false;
    await renewals;
  }
}
