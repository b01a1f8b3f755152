// One test per sync mode over the crash cycle (./crash-cycle.ts). CRASH_SEED=<n> replays a run.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { runCrashCycles, type SyncMode } from "./crash-cycle.js";
import { startS3rver, type S3rverHandle } from "./s3rver.js";
import { useScratchDirs } from "./scratch.js";

export function crashTest(mode: SyncMode, kills: number): void {
  const newDir = useScratchDirs(`litepaste-crash-${mode}`);
  let s3: S3rverHandle;
  before(async () => {
    s3 = await startS3rver();
  });
  after(() => s3?.dispose());

  test(`${mode} mode: ${kills} kill -9s under concurrent uploads lose no paste the server had to keep`, async (t) => {
    const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    t.diagnostic(`seed ${seed} (replay with CRASH_SEED=${seed})`);
    const tally = await runCrashCycles({ mode, kills, seed, s3, workDir: newDir("run"), prefix: `crash-${mode}`, log: (line) => t.diagnostic(line) });
    const replay = `seed ${seed}, replay with CRASH_SEED=${seed}`;
    assert.equal(tally.kills, kills, replay);
    assert.deepEqual(tally.lost, [], `pastes lost (${replay})`);
    assert.equal(tally.refusals["500"], undefined, `500 answers (${replay})`);
    // The run proved something: many pastes were bound, and checked again after later kills.
    // (Each kill waits for MIN_REQUIRED_PER_KILL binding answers, so speed does not decide this.)
    assert.ok(tally.required >= kills * 10, `only ${tally.required} pastes were required to survive (${replay})`);
    assert.ok(tally.verifications > tally.required, replay);
    t.diagnostic(JSON.stringify({ ...tally, lost: tally.lost.length }));
  });
}
