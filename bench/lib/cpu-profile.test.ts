import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { profileIn, summarizeProfile } from "./cpu-profile.js";

test("a real profile names the function that burned the CPU, and its owner", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "litepaste-cpu-profile-"));
  try {
    const script = "function burnTheCpu() { let x = 0; const end = Date.now() + 400; while (Date.now() < end) x += Math.sqrt(x + 1); return x; } burnTheCpu();";
    fs.writeFileSync(path.join(dir, "burn.js"), script);
    const run = spawnSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, path.join(dir, "burn.js")], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const summary = summarizeProfile(profileIn(dir), 3);
    assert.match(summary.functions[0]!.name, /^burnTheCpu /);
    assert.ok(summary.functions[0]!.percent > 40, `burnTheCpu has ${summary.functions[0]!.percent} %`);
    assert.ok(summary.functions.every((f, i, all) => i === 0 || all[i - 1]!.percent >= f.percent), "largest first");
    assert.equal(summary.origins[0]!.name, "litepaste", "code outside node_modules and node: counts as the project's");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
