import { test } from "node:test";
import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "./duration.js";

test("Go-style durations parse to milliseconds", () => {
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("24h"), 86_400_000);
});

test("anything else is rejected with a message that shows valid forms", () => {
  for (const bad of ["", "10", "ten seconds", "10 s", "-1s", "1d", "s"]) {
    assert.throws(() => parseDuration(bad), /invalid duration .*such as 500ms, 10s/, bad);
  }
});

test("durations format back the way an operator writes them", () => {
  assert.equal(formatDuration(86_400_000), "24h");
  assert.equal(formatDuration(1000), "1s");
  assert.equal(formatDuration(1500), "1.5s");
  assert.equal(formatDuration(250), "250ms");
  assert.equal(formatDuration(0), "0s");
});
