import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { formatCostComparison, profileIn, readCpuCost } from "./cpu-profile.js";
import { freshDir } from "../../testkit/scratch.js";

/** Runs `script` under --cpu-prof and returns its profile's cost. */
function profile(dir: string, name: string, script: string, skipMs = 0) {
  const sub = freshDir(name, dir);
  fs.writeFileSync(path.join(sub, `${name}.js`), script);
  const run = spawnSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${sub}`, path.join(sub, `${name}.js`)], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  return readCpuCost(profileIn(sub), skipMs);
}

const burn = (fn: string, ms: number) => `function ${fn}() { let x = 0; const end = Date.now() + ${ms}; while (Date.now() < end) x += Math.sqrt(x + 1); return x; }`;

test("a real profile charges the CPU to the function that burned it, and to its owner", () => {
  const dir = freshDir("litepaste-cpu-profile");
  try {
    const cost = profile(dir, "one", `${burn("burnTheCpu", 400)} burnTheCpu();`);
    const [top] = [...cost.byFunction.entries()].sort((a, b) => b[1] - a[1]);
    assert.match(top![0], /^burnTheCpu \(.*one\.js:1\)$/);
    assert.ok(top![1] > 0.5 * cost.totalMicros, `burnTheCpu has ${top![1]} of ${cost.totalMicros} µs`);
    assert.ok((cost.byOwner.get("litepaste") ?? 0) >= top![1], "code outside node_modules and node: counts as the project's");
    // Leaving out the first 10 s leaves nothing of a half-second program.
    assert.equal(profile(dir, "skipped", `${burn("burnTheCpu", 300)} burnTheCpu();`, 10_000).totalMicros, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the comparison names what the slower program spends more on, per request", () => {
  const dir = freshDir("litepaste-cpu-profile");
  try {
    const slow = profile(dir, "slow", `${burn("common", 200)} ${burn("onlyInSlow", 400)} common(); onlyInSlow();`);
    const fast = profile(dir, "fast", `${burn("common", 200)} common();`);
    const text = formatCostComparison("slow", { requests: 100, cost: slow }, "fast", { requests: 100, cost: fast });
    assert.match(text, /^CPU per answered request \(self time, start-up left out\): slow \d+ µs, fast \d+ µs\./);
    assert.match(text, /By function: onlyInSlow \(.*slow\.js:1\) \+\d+ µs/, "the extra function comes first");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
