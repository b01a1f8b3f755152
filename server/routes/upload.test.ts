// What the upload plugin adds stays inside it: a route registered beside it (here a JSON
// DELETE, as a later feature might add) gets Fastify's own body parsing, keeps its
// Content-Type and costs nothing from the upload budget.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import Fastify from "fastify";
import pino from "pino";
import { DEFAULT_APP_CONFIG } from "../../testkit/app-server.js";
import { useScratchDirs } from "../../testkit/scratch.js";
import { litepaste } from "../app.js";
import { Metrics } from "../metrics.js";
import { openStore } from "../pastes/store.js";
import { PASTE_SPACE } from "../url-space.js";

const newDir = useScratchDirs("litepaste-upload-scope");

test("a JSON route beside the uploads is parsed as JSON and not charged to the upload rate limit", async () => {
  const store = openStore(path.join(newDir("db"), "store.db"), { replicated: false, synchronous: "NORMAL" });
  const app = Fastify();
  await app.register(litepaste, {
    config: { ...DEFAULT_APP_CONFIG, perMinuteLimit: 1 },
    store,
    logger: pino({ level: "silent" }),
    metrics: new Metrics(),
  });
  await app.register(async (child) => {
    child.delete(PASTE_SPACE.paste, async (req) => ({ contentType: req.headers["content-type"], body: req.body }));
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  try {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/AAAAAAAA`, { method: "DELETE", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ i }) });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { contentType: "application/json", body: { i } });
      assert.equal(res.headers.get("access-control-allow-origin"), "*", "app-wide plugins still apply");
    }
    const bad = await fetch(`${url}/AAAAAAAA`, { method: "DELETE", headers: { "Content-Type": "application/json" }, body: "{not json" });
    assert.equal(bad.status, 400, "a JSON route refuses a body that is not JSON, instead of taking its bytes");
    // The budget of one upload is still whole.
    assert.equal((await fetch(`${url}/`, { method: "PUT", body: "first" })).status, 200);
    assert.equal((await fetch(`${url}/`, { method: "PUT", body: "second" })).status, 429);
  } finally {
    await app.close();
    store.close();
  }
});
