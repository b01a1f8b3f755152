// Replication after a failed upload, on a server that has gone quiet: it must retry by
// itself, and /healthz's replication.lagSeconds must count the commits of an upload in
// flight. Both found by the async outage test (test/outage-async.test.ts): in the catch-up
// after an outage, every /healthz read in the middle of an upload said 0 while hundreds of
// MiB were unshipped; and an upload that failed when no write followed was never retried.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FileReplicaClient } from "../replication/replica/file/client.js";
import { GatedReplicaClient } from "../testkit/gated-client.js";
import { testDir } from "../testkit/scratch.js";
import { startSession, waitFor, type Session } from "../testkit/replication-session.js";

/** A session whose last commit's upload was refused; no write and no waiter follows. */
async function failedLastUpload(t: Parameters<typeof testDir>[0] & { after(fn: () => Promise<void>): void }): Promise<{ s: Session; client: GatedReplicaClient }> {
  const dir = testDir(t);
  const client = new GatedReplicaClient(new FileReplicaClient(path.join(dir, "replica")));
  const s = await startSession(t, path.join(dir, "store.db"), client);
  await s.replication.waitUntilReplicated();
  // The next tick may still notice the WAL change of that last write and ship nothing new.
  await waitFor("nothing left to ship", () => s.replication.status().lagSeconds === 0);
  client.refuse(new Error("connect ECONNREFUSED"));
  s.run("INSERT INTO t (body) VALUES (randomblob(500))");
  await waitFor("an upload to be refused", () => client.refused > 0);
  await sleep(200);
  assert.ok(s.replication.status().lagSeconds >= 0.2, `lag ${s.replication.status().lagSeconds} s after 200 ms of refusals`);
  return { s, client };
}

test("after a failed upload, replication retries by itself once the store is back, with no further write", async (t) => {
  const { s, client } = await failedLastUpload(t);
  client.refuse(null);
  await waitFor("the commit to reach the replica", () => s.replication.status().lagSeconds === 0 && s.replication.status().healthy);
});

test("the lag counts the commits of an upload still in flight", async (t) => {
  const { s, client } = await failedLastUpload(t);
  client.hold();
  client.refuse(null);
  await waitFor("the retry to be in flight", () => client.waiting > 0);
  const during = s.replication.status().lagSeconds;
  assert.ok(during >= 0.2, `lag ${during} s while the retry of a commit unshipped for over 200 ms is in flight`);
  client.release();
  await waitFor("the commit to reach the replica", () => s.replication.status().lagSeconds === 0);
});
