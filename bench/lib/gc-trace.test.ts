import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { readHeapTrace } from "./gc-trace.js";
import { freshDir } from "../../testkit/scratch.js";

test("reads the heap sizes a real node --trace-gc run prints", () => {
  const dir = freshDir("litepaste-gc-trace");
  try {
    // Keeps about 20 MB of strings alive, so the heap must grow past that.
    const script = "const keep = []; for (let i = 0; i < 200000; i++) keep.push('x'.repeat(90) + i); console.log(keep.length);";
    const run = spawnSync(process.execPath, ["--trace-gc", "-e", script], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const log = path.join(dir, "gc.log");
    fs.writeFileSync(log, run.stdout);
    const trace = readHeapTrace(log);
    assert.ok(trace.collections > 0);
    assert.ok(trace.maxLiveBytes > 15e6, `live ${trace.maxLiveBytes}`);
    assert.ok(trace.maxCommittedBytes >= trace.maxLiveBytes);
    fs.writeFileSync(log, "no collections here\n");
    assert.throws(() => readHeapTrace(log), /no --trace-gc lines/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
