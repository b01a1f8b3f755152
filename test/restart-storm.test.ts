// 50 clean restarts (SIGTERM, start again on the same disk) with uploads in flight at every
// SIGTERM (each start takes a counted number of uploads first, whatever the machine's speed): the server finishes what it accepted and exits 0, every restart continues the
// same replica generation (no new snapshot, no new generation), and at the end every
// acknowledged paste is in the database and in a restore of the replica.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { parseReplicaKey } from "../replication/replica/layout.js";
import { openReplicaClient } from "../replication/replica/url.js";
import { serveCli } from "../testkit/litepaste-process.js";
import { waitForHealth } from "../testkit/paste-client.js";
import { comparePastes, restoreToEmptyDir } from "../testkit/replica-check.js";
import { digestDatabase } from "../testkit/replication-db.js";
import { startS3rver } from "../testkit/s3rver.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { startUploads } from "../testkit/upload-load.js";
import { until } from "../testkit/wait.js";
import { seededRandom } from "../testkit/workload.js";

const RESTARTS = 50;
/** Each start is stopped after between this many and twice as many acknowledged uploads. */
const ACKS_PER_START = 10;
const newDir = useScratchDirs("litepaste-restarts");

test(`${RESTARTS} clean restarts under load keep one generation and every acknowledged paste`, async (t) => {
  const s3 = await startS3rver();
  t.after(() => s3.dispose());
  const dbPath = path.join(newDir("data"), "store.db");
  const replicaUrl = s3.url("restarts");
  const env = { ...s3.env, DB_PATH: dbPath, DB_REPLICA_URL: replicaUrl, DB_SYNC_MODE: "async", DB_SYNC_INTERVAL: "200ms" };
  const random = seededRandom(7);
  const acknowledged = new Map<string, Buffer>();
  let generation: string | null | undefined;
  let unanswered = 0; // up to each exit: connections refused or cut by the stopping server
  let refusedWhileClosing = 0;
  const inFlightAtSigterm: number[] = [];

  for (let run = 0; run < RESTARTS; run++) {
    const server = await serveCli(env);
    const load = startUploads(server.url, { clients: 2, pauseMs: 5, seed: run });
    let sigtermAt = Infinity; // set in the step that sends SIGTERM
    try {
      const h = await waitForHealth(server.url, "a generation", (h) => h.replication?.generation != null);
      if (run === 0) generation = h.replication!.generation;
      else assert.equal(h.replication!.generation, generation, `start ${run + 1} continues the generation\n${server.output()}`);
      // SIGTERM once this start has acknowledged a (random) number of uploads, at a moment
      // when one is in flight: counted, not timed, so a slow machine does the same work.
      // The clients keep going until the server is gone.
      const target = ACKS_PER_START + Math.floor(random() * ACKS_PER_START);
      const { stopped } = await until(`${target} acknowledged uploads and one in flight (start ${run + 1})`, () => {
        if (load.answers.filter((a) => a.status === 200).length < target || load.inFlight === 0) return false;
        sigtermAt = Date.now();
        inFlightAtSigterm.push(load.inFlight);
        return { stopped: server.stop() }; // the signal goes in this same step
      }, { pollMs: 1, detail: () => server.output() });
      assert.equal(await stopped, 0, server.output());
      unanswered += load.unanswered;
    } finally {
      server.child.kill("SIGKILL");
      await load.stop();
    }
    for (const a of load.answers) {
      if (a.status === 200) {
        acknowledged.set(a.id!, a.body);
        continue;
      }
      // Fastify refuses requests that reach a closing server (on a kept-alive connection) with 503.
      assert.equal(a.status, 503, `start ${run + 1}: an upload answered ${a.status} ${a.text}`);
      assert.ok(a.answeredAt >= sigtermAt, `start ${run + 1}: a 503 before SIGTERM: ${a.text}`);
      refusedWhileClosing++;
    }
  }

  const inDatabase = comparePastes(dbPath, acknowledged);
  assert.deepEqual({ missing: inDatabase.missing, different: inDatabase.different }, { missing: [], different: [] });
  const restored = await restoreToEmptyDir(replicaUrl, s3.env, newDir("restore"));
  assert.equal(restored.generation, generation);
  assert.deepEqual(digestDatabase(restored.dbPath), digestDatabase(dbPath), "the restore equals the database");
  const generations = new Set<string>();
  for await (const object of openReplicaClient(replicaUrl, s3.env).list("generations/")) {
    const key = parseReplicaKey(object.key);
    if (key) generations.add(key.generation);
  }
  assert.deepEqual([...generations], [generation], "the replica holds one generation");
  assert.ok(acknowledged.size >= RESTARTS * ACKS_PER_START, `${acknowledged.size} pastes acknowledged`);
  assert.ok(inFlightAtSigterm.length === RESTARTS && inFlightAtSigterm.every((n) => n >= 1), `uploads in flight at each SIGTERM: ${inFlightAtSigterm.join(",")}`);
  t.diagnostic(`${acknowledged.size} pastes acknowledged over ${RESTARTS} runs, all kept; ${refusedWhileClosing} refused with 503 and ${unanswered} without an answer (connection refused or cut while it stopped)`);
});
