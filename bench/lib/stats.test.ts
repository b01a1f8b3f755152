import { test } from "node:test";
import assert from "node:assert/strict";
import { formatSpread, spread } from "./stats.js";

test("spread: min, median and max, for odd and even counts, whatever the order", () => {
  assert.deepEqual(spread([3, 1, 2]), { min: 1, median: 2, max: 3 });
  assert.deepEqual(spread([10, 4, 1, 2]), { min: 1, median: 3, max: 10 });
  assert.deepEqual(spread([7]), { min: 7, median: 7, max: 7 });
  assert.throws(() => spread([]), /no values/);
});

test("formatSpread: median first, range in brackets", () => {
  assert.equal(formatSpread({ min: 900, median: 1234.4, max: 2000 }), "1,234 (900–2,000)");
  assert.equal(formatSpread({ min: 0.5, median: 0.81, max: 0.9 }, 2, "×"), "0.81× (0.50–0.90)");
});
