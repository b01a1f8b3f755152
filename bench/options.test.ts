import { test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "../internal/usage-error.js";
import { parseArgs, usage } from "./options.js";

const KNOWN = ["get-throughput", "memory", "cold-start"];

test("no arguments: every scenario, three rounds, no soak", () => {
  assert.deepEqual(parseArgs([], KNOWN), { only: null, rounds: 3, soak: false });
});

test("--only takes a comma-separated list, --rounds a number, --soak nothing", () => {
  assert.deepEqual(parseArgs(["--only", "memory,cold-start", "--rounds=5", "--soak"], KNOWN), { only: ["memory", "cold-start"], rounds: 5, soak: true });
  assert.deepEqual(parseArgs(["--only=get-throughput"], KNOWN), { only: ["get-throughput"], rounds: 3, soak: false });
});

test("an unknown scenario is refused with the list of known ones", () => {
  assert.throws(() => parseArgs(["--only", "memory,nope"], KNOWN), (err: Error) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /unknown scenario nope; the scenarios are get-throughput, memory, cold-start/);
    return true;
  });
});

test("fewer than three rounds, a non-number, a missing value or an unknown flag is refused", () => {
  assert.throws(() => parseArgs(["--rounds", "2"], KNOWN), /at least 3, got "2"/);
  assert.throws(() => parseArgs(["--rounds", "3.5"], KNOWN), /whole number/);
  assert.throws(() => parseArgs(["--only"], KNOWN), /--only needs a value/);
  assert.throws(() => parseArgs(["--fast"], KNOWN), /unknown option --fast/);
});

test("--help is recognised and the usage lists each scenario", () => {
  assert.equal(parseArgs(["--rounds", "4", "--help"], KNOWN), "help");
  const text = usage(KNOWN.map((id) => ({ id, title: `title of ${id}` })));
  for (const id of KNOWN) assert.match(text, new RegExp(`${id} +title of ${id}`));
});
