// Async mode, S3 down for 30 s (and on until 32 MiB were written) under write load: uploads
// keep succeeding, the WAL keeps every unshipped frame (it is not checkpointed: its header never changes and it only
// grows), /healthz shows the lag rising, memory does not grow with the WAL, and when S3
// returns replication catches up in the same generation and a restore equals the primary.

import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { health, waitForHealth } from "../testkit/paste-client.js";
import { MiB, assertMemoryBounded, assertRestoreEqualsPrimary, startReplicatedServer, walState, watchMemory } from "../testkit/outage.js";
import { rssBytes } from "../testkit/process-memory.js";
import { startS3rver } from "../testkit/s3rver.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { startUploads } from "../testkit/upload-load.js";
import { HANG_TIMEOUT_MS, until } from "../testkit/wait.js";
import { randomBytes } from "../testkit/workload.js";

const OUTAGE_MS = 30_000;
/** The outage goes on until the WAL has grown by more than this, and more than OUTAGE_UPLOADS uploads were answered. */
const OUTAGE_WAL_GROWTH = 32 * MiB;
const OUTAGE_UPLOADS = 50;
const newDir = useScratchDirs("litepaste-outage-async");

test("async mode: a 30 s S3 outage under write load loses nothing and keeps the generation", async (t) => {
  const s3 = await startS3rver();
  t.after(() => s3.dispose());
  const primary = await startReplicatedServer(s3, newDir("outage-async"), { DB_SYNC_MODE: "async" });
  const { server, dbPath } = primary;
  t.after(() => server.child.kill("SIGKILL"));
  const { generation } = (await waitForHealth(server.url, "a generation", (h) => h.replication?.generation != null)).replication!;

  const memory = watchMemory(server.child.pid!);
  t.after(() => memory.stop());
  // Large pastes, so that the WAL grows during the outage by more than the memory bound's slack.
  const load = startUploads(server.url, { clients: 2, pauseMs: 150, seed: 1, body: (random) => randomBytes(random, 32 * 1024 + Math.floor(random() * 224 * 1024)) });
  t.after(() => load.stop());
  const warmUpHeaders = new Set<string>();
  // Warm-up: 20 samples 200 ms apart at the least, and on until the WAL has restarted once
  // (a count of bytes written decides, not a time).
  let warmUpSamples = 0;
  await until("the WAL to restart during the warm-up", () => {
    warmUpHeaders.add(walState(dbPath).header);
    return ++warmUpSamples >= 20 && warmUpHeaders.size >= 2;
  }, { pollMs: 200 });
  await waitForHealth(server.url, "replication to keep up before the outage", (h) => h.replication!.lagSeconds < 1);
  const rssBefore = memory.samples.at(-1)!;

  await s3.stop();
  const outageStart = Date.now();
  // One sample a second, from the first second on (an upload in flight at the start may still land).
  // The outage lasts OUTAGE_MS and on until the load has written what the checks below
  // need (WAL growth, uploads): driven by bytes written, so a slow machine only takes longer.
  const samples: Array<ReturnType<typeof walState> & { rss: number }> = [];
  let lag = 0;
  const uploadsDuringOutageSoFar = () => load.answers.filter((a) => a.answeredAt > outageStart).length;
  const enoughWritten = () => samples.length > 0 && samples.at(-1)!.size - samples[0]!.size > OUTAGE_WAL_GROWTH && uploadsDuringOutageSoFar() > OUTAGE_UPLOADS;
  while (Date.now() - outageStart < OUTAGE_MS || !enoughWritten()) {
    assert.ok(Date.now() - outageStart < OUTAGE_MS + HANG_TIMEOUT_MS, `no progress: ${uploadsDuringOutageSoFar()} uploads during the outage so far`);
    await sleep(1000);
    samples.push({ ...walState(dbPath), rss: rssBytes(server.child.pid!) });
    const h = await health(server.url);
    assert.equal(h.replication!.generation, generation);
    lag = h.replication!.lagSeconds;
  }
  const uploadsDuringOutage = uploadsDuringOutageSoFar();
  await s3.restart();
  const outageEnd = Date.now();

  // No checkpoint during the outage: one that backfilled everything would let the next
  // write start the WAL over (new salts in its header) and overwrite unshipped frames.
  assert.equal(new Set(samples.map((w) => w.header)).size, 1, "the WAL header never changed during the outage");
  const walGrowth = samples.at(-1)!.size - samples[0]!.size;
  assert.ok(walGrowth > OUTAGE_WAL_GROWTH, `the WAL grew by ${walGrowth} bytes`);
  // ...while with S3 up it was checkpointed and restarted every few MiB.
  assert.ok(warmUpHeaders.size >= 2, "the WAL restarted during the warm-up");
  assert.ok(lag >= OUTAGE_MS / 1000 - 5, `/healthz lag rose to ${lag} s`);
  // Unshipped writes wait in the WAL on disk, not in memory: over the second half of the
  // outage the RSS grows by less than the WAL grows (alone, by nothing; under a loaded CI
  // machine, GC timing has shown up to 0.8× of it).
  const half = Math.floor(samples.length / 2);
  const peak = (from: number, to: number) => Math.max(...samples.slice(from, to).map((s) => s.rss));
  const rssGrowth = peak(samples.length - 5, samples.length) - peak(half - 5, half);
  const walGrowthLate = samples.at(-1)!.size - samples[half - 1]!.size;
  assert.ok(rssGrowth < walGrowthLate, `RSS grew by ${rssGrowth} bytes while the WAL grew by ${walGrowthLate}`);

  const caughtUp = await waitForHealth(server.url, "replication to catch up", (h) => h.replication!.lagSeconds < 1);
  assert.equal(caughtUp.replication!.generation, generation, "caught up in the same generation");
  const catchUpMs = Date.now() - outageEnd;
  await load.stop();
  await waitForHealth(server.url, "the last uploads to be shipped", (h) => h.replication!.lagSeconds === 0);
  memory.stop();

  assert.deepEqual(load.answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text}`), [], "every upload succeeded");
  assert.equal(load.unanswered, 0);
  assert.ok(uploadsDuringOutage > OUTAGE_UPLOADS, `${uploadsDuringOutage} uploads during the outage`);
  assertMemoryBounded(rssBefore, memory);
  await assertRestoreEqualsPrimary(s3, primary, newDir("restore"), generation!, load.answers.map((a) => [a.id!, a.body] as const));
  assert.equal(await server.stop(), 0);
  t.diagnostic(
    `${load.answers.length} uploads (${uploadsDuringOutage} during the outage), WAL +${(walGrowth / MiB).toFixed(0)} MiB during it ` +
      `(RSS ${(rssGrowth / MiB).toFixed(0)} MiB over its second half, WAL +${(walGrowthLate / MiB).toFixed(0)} MiB), ` +
      `caught up ${catchUpMs} ms after S3 returned, RSS ${(rssBefore / MiB).toFixed(0)} MiB before, max ${(memory.max() / MiB).toFixed(0)} MiB`,
  );
});
