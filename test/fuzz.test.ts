// Bad input, bounded and seeded: 20,000 random requests over raw TCP (methods, paths,
// versions, headers, proxy headers, framing, multipart, bodies, malformed HTTP), several
// pipelined per connection, against a server process behind a pretend proxy
// (testkit/fuzz-session.ts; `npm run fuzz` runs the same for longer). The server never
// answers 5xx, every answer is parseable HTTP (or the connection is just closed, fine for
// garbage), no connection hangs, and afterwards it is alive, healthy, its database passes
// integrity_check, and the pastes stored before are intact. FUZZ_SEED=<n> replays a run.

import { test } from "node:test";
import assert from "node:assert/strict";
import { fuzzFindings, fuzzSummary, runFuzzSession } from "../testkit/fuzz-session.js";
import { useScratchDirs } from "../testkit/scratch.js";

const REQUESTS = 20_000;
const newDir = useScratchDirs("litepaste-fuzz");

test(`${REQUESTS} random and malformed requests: no 5xx, no crash, no hang, nothing stored is harmed`, async (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const replay = `seed ${seed}, replay with FUZZ_SEED=${seed} or npm run fuzz -- --requests ${REQUESTS} --seed ${seed}`;
  t.diagnostic(replay);
  const result = await runFuzzSession({ requests: REQUESTS, seed, dataDir: newDir("data") });
  t.diagnostic(fuzzSummary(result));

  assert.deepEqual({ findings: fuzzFindings(result), examples: result.examples }, { findings: [], examples: [] }, `${replay}\n${result.serverLogTail}`);
  assert.equal(result.sent, REQUESTS);
  // The fuzz got past the parser to the routes, in numbers.
  const count = (key: string) => result.tally.get(key) ?? 0;
  assert.ok(count("200") > 500 && count("400") > 500 && count("404") > 500, fuzzSummary(result));
});
