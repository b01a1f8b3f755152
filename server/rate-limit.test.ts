import { test } from "node:test";
import assert from "node:assert/strict";
import { createRateLimiter } from "./rate-limit.js";

test("a client gets its per-minute budget, then refills at that rate", () => {
  const limiter = createRateLimiter(3);
  const t0 = 1_000_000;
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.tryTake("a", t0)), [true, true, true, false]);
  assert.equal(limiter.tryTake("b", t0), true, "budgets are per client");
  assert.equal(limiter.tryTake("a", t0 + 19_000), false, "one token takes 20 s at 3/min");
  assert.equal(limiter.tryTake("a", t0 + 20_000), true);
  assert.equal(limiter.tryTake("a", t0 + 20_001), false);
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.tryTake("a", t0 + 200_000)), [true, true, true, false], "never more than the budget");
});

test("memory is bounded: idle clients are forgotten and the table has a ceiling", () => {
  const limiter = createRateLimiter(5, 100);
  for (let i = 0; i < 1000; i++) limiter.tryTake(`client-${i}`, 0);
  assert.equal(limiter.size, 100);
  limiter.tryTake("late", 61_000);
  assert.equal(limiter.size, 1, "buckets idle for a minute are full again and dropped");
});
