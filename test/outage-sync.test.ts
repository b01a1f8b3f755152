// Sync mode, S3 down for 30 s under write load: every upload answers 503 within the sync
// timeout, saying the paste is stored locally but not replicated yet; uploads succeed again
// once S3 is back; nothing acknowledged is lost, and the pastes that got a 503 reach the
// replica too (as the message promises); same generation; memory stays bounded.

import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { upload, waitForHealth, type UploadAnswer } from "../testkit/paste-client.js";
import { assertMemoryBounded, assertRestoreEqualsPrimary, startReplicatedServer, watchMemory } from "../testkit/outage.js";
import { startS3rver } from "../testkit/s3rver.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { startUploads } from "../testkit/upload-load.js";

const OUTAGE_MS = 30_000;
const SYNC_TIMEOUT_MS = 2_000;
const newDir = useScratchDirs("litepaste-outage-sync");

test("sync mode: a 30 s S3 outage answers 503 in time, then uploads succeed again and nothing is lost", async (t) => {
  const s3 = await startS3rver();
  t.after(() => s3.dispose());
  const primary = await startReplicatedServer(s3, newDir("outage-sync"), { DB_SYNC_MODE: "sync", DB_SYNC_TIMEOUT: `${SYNC_TIMEOUT_MS}ms` });
  const { server } = primary;
  t.after(() => server.child.kill("SIGKILL"));
  const { generation } = (await waitForHealth(server.url, "a generation", (h) => h.replication?.generation != null)).replication!;
  const memory = watchMemory(server.child.pid!);
  t.after(() => memory.stop());

  const before = startUploads(server.url, { clients: 4, pauseMs: 10, seed: 1 });
  await sleep(3000);
  await before.stop();
  const rssBefore = memory.samples.at(-1)!;

  await s3.stop();
  const outage = startUploads(server.url, { clients: 4, pauseMs: 10, seed: 2 });
  await sleep(OUTAGE_MS);
  await outage.stop();
  await s3.restart();
  const outageEnd = Date.now();

  // After the outage: the replicator retries with a back-off (up to 5 s), so the first
  // uploads may still answer 503; one must succeed within that back-off plus slack.
  const after: Array<UploadAnswer & { body: Buffer }> = [];
  for (let n = 0; after.filter((a) => a.status === 200).length < 10; n++) {
    assert.ok(Date.now() - outageEnd < 15_000, "uploads succeed again within 15 s of S3's return");
    const body = Buffer.from(`after the outage ${n}\n`);
    after.push({ ...(await upload(server.url, body)), body });
    if (after.at(-1)!.status !== 200) await sleep(250);
  }
  const recoveredMs = after.find((a) => a.status === 200)!.answeredAt - outageEnd;
  await waitForHealth(server.url, "replication to catch up", (h) => h.replication!.lagSeconds === 0);
  memory.stop();

  assert.deepEqual(before.answers.filter((a) => a.status !== 200).map((a) => a.text), [], "uploads before the outage succeed");
  assert.ok(outage.answers.length >= 4 * Math.floor(OUTAGE_MS / (SYNC_TIMEOUT_MS + 2000)), `${outage.answers.length} uploads during the outage`);
  const storedLocally = new Map<string, Buffer>();
  for (const a of [...outage.answers, ...after.filter((a) => a.status !== 200)]) {
    assert.equal(a.status, 503, a.text);
    assert.ok(a.ms <= SYNC_TIMEOUT_MS + 2000, `a 503 took ${a.ms} ms`);
    assert.equal(a.retryAfter, "10");
    const id = /^paste ([A-Za-z0-9]{8}) was stored locally but is not replicated yet; it will be once the replica is reachable\n$/.exec(a.text)?.[1];
    assert.ok(id, a.text);
    storedLocally.set(id, a.body);
  }
  assertMemoryBounded(rssBefore, memory);

  const acknowledged = [...before.answers, ...after].filter((a) => a.status === 200).map((a) => [a.id!, a.body] as const);
  await assertRestoreEqualsPrimary(s3, primary, newDir("restore"), generation!, [...acknowledged, ...storedLocally]);
  assert.equal(await server.stop(), 0);
  t.diagnostic(
    `${acknowledged.length} acknowledged, ${storedLocally.size} answered 503 (all replicated after the outage), ` +
      `first success ${recoveredMs} ms after S3 returned, RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, max ${(memory.max() / 2 ** 20).toFixed(0)} MiB`,
  );
});
