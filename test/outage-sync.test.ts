// Sync mode, S3 down for 30 s under write load: every upload answers 503 once the sync
// timeout ends, while S3 is still down, saying the paste is stored locally but not
// replicated yet; uploads succeed again once S3 is back; nothing acknowledged is lost, and the pastes that got a 503 reach the
// replica too (as the message promises); same generation; memory stays bounded.

import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { upload, waitForHealth, type UploadAnswer } from "../testkit/paste-client.js";
import { assertMemoryBounded, assertRestoreEqualsPrimary, startReplicatedServer, watchMemory } from "../testkit/outage.js";
import { startS3rver } from "../testkit/s3rver.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { startUploads } from "../testkit/upload-load.js";
import { HANG_TIMEOUT_MS, until, withHangTimeout } from "../testkit/wait.js";
import { REPLICATION_DEFAULTS } from "../replication/config.js";

const OUTAGE_MS = 30_000;
/** The production default: long enough that the uploads before the outage replicate in time on a loaded machine. */
const SYNC_TIMEOUT_MS = REPLICATION_DEFAULTS.syncTimeoutMs;
/** The outage goes on until this many uploads were answered (each waits out the sync timeout). */
const OUTAGE_ANSWERS = 4 * Math.floor(OUTAGE_MS / (SYNC_TIMEOUT_MS + 2000));
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
  const outageStart = Date.now();
  const outage = startUploads(server.url, { clients: 4, pauseMs: 10, seed: 2 });
  // OUTAGE_MS, and on until OUTAGE_ANSWERS uploads were answered: counted, so a slow machine only takes longer.
  await until(`${OUTAGE_ANSWERS} uploads answered during the outage`, () => Date.now() - outageStart >= OUTAGE_MS && outage.answers.length >= OUTAGE_ANSWERS, { pollMs: 100 });
  // Every upload of the outage is answered while S3 is still down: the server gives up after
  // its sync timeout instead of waiting for the replica (a server that waited would hang here).
  await withHangTimeout("the uploads in flight to be answered while S3 is down", outage.stop());
  const s3ReturnsAt = Date.now();
  await s3.restart();
  const outageEnd = Date.now();

  // After the outage: the replicator retries with a back-off (up to 5 s), so the first
  // uploads may still answer 503; then they succeed again (the deadline only catches a hang).
  const after: Array<UploadAnswer & { body: Buffer }> = [];
  for (let n = 0; after.filter((a) => a.status === 200).length < 10; n++) {
    assert.ok(Date.now() - outageEnd < HANG_TIMEOUT_MS, `uploads do not succeed again ${HANG_TIMEOUT_MS / 1000} s after S3's return`);
    const body = Buffer.from(`after the outage ${n}\n`);
    after.push({ ...(await upload(server.url, body)), body });
    if (after.at(-1)!.status !== 200) await sleep(250);
  }
  const recoveredMs = after.find((a) => a.status === 200)!.answeredAt - outageEnd;
  await waitForHealth(server.url, "replication to catch up", (h) => h.replication!.lagSeconds === 0);
  memory.stop();

  assert.deepEqual(before.answers.filter((a) => a.status !== 200).map((a) => a.text), [], "uploads before the outage succeed");
  assert.ok(outage.answers.length >= OUTAGE_ANSWERS, `${outage.answers.length} uploads during the outage`);
  for (const a of outage.answers) assert.ok(a.answeredAt <= s3ReturnsAt, `an upload of the outage answered ${a.answeredAt - s3ReturnsAt} ms after S3 returned`);
  const storedLocally = new Map<string, Buffer>();
  for (const a of [...outage.answers, ...after.filter((a) => a.status !== 200)]) {
    assert.equal(a.status, 503, a.text);
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
