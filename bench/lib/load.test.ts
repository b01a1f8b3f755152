import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runLoad } from "./load.js";
import { startServerProcess } from "../../testkit/litepaste-process.js";
import { HANG_TIMEOUT_MS } from "../../testkit/wait.js";
import { freshDir } from "../../testkit/scratch.js";

const BASELINE = fileURLToPath(new URL("../baseline-server.js", import.meta.url));

test("the load generator measures 2xx answers and refuses to count anything else", async () => {
  const dir = freshDir("litepaste-bench-load");
  const body = Buffer.from("hello from the baseline\n");
  fs.writeFileSync(path.join(dir, "body"), body);
  const server = await startServerProcess({ script: BASELINE, env: { BODY_FILE: path.join(dir, "body") }, logFile: path.join(dir, "log"), ready: "healthy" });
  try {
    assert.ok(server.readyMs > 0 && server.readyMs < HANG_TIMEOUT_MS, `ready after ${server.readyMs} ms`);
    const res = await fetch(`${server.url}/abcdefgh`);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=UTF-8");
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);

    const ok = await runLoad({ url: server.url, connections: 2, durationS: 1, requests: [{ method: "GET", path: "/abcdefgh" }] });
    assert.ok(ok.requests > 0 && ok.requestsPerSec > 0, JSON.stringify(ok));
    assert.ok(ok.latencyMs.p50 <= ok.latencyMs.p99 && ok.latencyMs.p99 <= ok.latencyMs.max);

    // The baseline has no PUT route: every answer is a 404, and a 404 is not throughput.
    await assert.rejects(
      runLoad({ url: server.url, connections: 2, durationS: 1, requests: [{ method: "PUT", path: "/", body: "x" }] }),
      /requests failed .*"404"/,
    );
  } finally {
    assert.equal(await server.stop(), 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a server that exits before answering is reported with its output", async () => {
  const dir = freshDir("litepaste-bench-start");
  try {
    await assert.rejects(
      startServerProcess({ script: BASELINE, env: { BODY_FILE: path.join(dir, "missing") }, logFile: path.join(dir, "log"), ready: "healthy" }),
      /baseline-server\.js exited \(1\) before answering:[\s\S]*ENOENT/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
