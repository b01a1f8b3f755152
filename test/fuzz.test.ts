// Bad input, bounded and seeded: 1,500 random requests over raw TCP (methods, paths,
// versions, headers, framing, multipart boundaries, bodies, malformed HTTP). The server
// never answers 5xx, every answer is parseable HTTP (or the connection is just closed,
// fine for garbage), and afterwards it is alive, healthy, its database passes
// integrity_check, and the pastes stored before are intact. FUZZ_SEED=<n> replays a run.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import { randomRequest, type FuzzRequest } from "../testkit/http-fuzz.js";
import { serveCli } from "../testkit/litepaste-process.js";
import { health, randomPasteBody, upload } from "../testkit/paste-client.js";
import { rawExchange, type RawOutcome } from "../testkit/raw-http.js";
import { comparePastes } from "../testkit/replica-check.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { HANG_TIMEOUT_MS } from "../testkit/wait.js";
import { seededRandom } from "../testkit/workload.js";

const REQUESTS = 1500;
const CONNECTIONS = 4;
const newDir = useScratchDirs("litepaste-fuzz");

test(`${REQUESTS} random and malformed requests: no 5xx, no crash, nothing stored is harmed`, async (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const replay = `seed ${seed}, replay with FUZZ_SEED=${seed}`;
  t.diagnostic(replay);
  const random = seededRandom(seed);
  const dbPath = path.join(newDir("data"), "store.db");
  const server = await serveCli({ DB_PATH: dbPath, LOG_LEVEL: "info" });
  t.after(() => server.child.kill("SIGKILL"));
  const port = Number(new URL(server.url).port);

  const stored = new Map<string, Buffer>();
  for (let i = 0; i < 30; i++) {
    const body = randomPasteBody(random);
    const answer = await upload(server.url, body);
    assert.equal(answer.status, 200, answer.text);
    stored.set(answer.id!, body);
  }
  const ids = [...stored.keys()];

  const failures: string[] = [];
  const tally = new Map<string, number>();
  let next = 0;
  const connection = async () => {
    while (next < REQUESTS) {
      next++;
      const request: FuzzRequest = randomRequest(random, ids);
      const outcome: RawOutcome = await rawExchange(port, request.bytes, { head: request.head, timeoutMs: HANG_TIMEOUT_MS });
      const key = outcome.kind === "response" ? String(outcome.status) : outcome.kind;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      if (outcome.kind === "response" && outcome.status >= 500) failures.push(`${outcome.status} ${outcome.body.toString().slice(0, 200)} <- ${request.summary}`);
      if (outcome.kind === "garbled" || outcome.kind === "timeout") failures.push(`${outcome.kind}: ${JSON.stringify(outcome.bytes.subarray(0, 200).toString("latin1"))} <- ${request.summary}`);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, connection));
  const seconds = (Date.now() - started) / 1000;
  t.diagnostic(`${REQUESTS} requests in ${seconds.toFixed(1)} s: ${JSON.stringify(Object.fromEntries([...tally].sort()))}`);

  assert.deepEqual(failures, [], replay);
  assert.equal(server.child.exitCode, null, `the server is alive (${replay})`);
  assert.equal((await health(server.url)).status, "ok");
  for (const [id, body] of stored) {
    const res = await fetch(`${server.url}/${id}`);
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(body), `paste ${id} is intact (${replay})`);
  }
  // The fuzz got past the parser to the routes, in numbers.
  assert.ok((tally.get("200") ?? 0) > 50 && (tally.get("400") ?? 0) > 50 && (tally.get("404") ?? 0) > 50, JSON.stringify(Object.fromEntries(tally)));

  assert.equal(await server.stop(), 0, server.output().slice(-4000));
  const db = new Database(dbPath, { readonly: true });
  try {
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
  } finally {
    db.close();
  }
  const after = comparePastes(dbPath, stored);
  assert.deepEqual({ missing: after.missing, different: after.different }, { missing: [], different: [] });
});
