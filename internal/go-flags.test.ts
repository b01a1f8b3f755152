import { test } from "node:test";
import assert from "node:assert/strict";
import { parseGoFlags } from "./go-flags.js";
import { UsageError } from "./usage-error.js";

const specs = { o: "string", v: "bool" } as const;

test("flags parse as Go's flag package parses them", () => {
  for (const args of [["-o", "x", "url"], ["--o", "x", "url"], ["-o=x", "url"], ["--o=x", "url"]]) {
    const parsed = parseGoFlags(args, specs);
    assert.equal(parsed.strings.get("o"), "x", args.join(" "));
    assert.deepEqual(parsed.positional, ["url"]);
  }
  assert.ok(parseGoFlags(["-v", "url"], specs).bools.has("v"));
  assert.ok(!parseGoFlags(["-v", "-v=false", "url"], specs).bools.has("v"));
  assert.ok(parseGoFlags(["-v=false", "url"], specs).given.has("v"), "an explicit false is still given");
  assert.ok(!parseGoFlags(["url"], specs).given.has("v"));
  assert.deepEqual(parseGoFlags(["-v", "false"], specs).positional, ["false"], "a bool flag takes no separate value");
  assert.deepEqual(parseGoFlags(["--", "-o", "x"], specs).positional, ["-o", "x"]);
  assert.deepEqual(parseGoFlags(["url", "-o", "x"], specs).positional, ["url", "-o", "x"], "parsing stops at the first non-flag");
  assert.deepEqual(parseGoFlags(["-", "x"], specs).positional, ["-", "x"]);
  assert.equal(parseGoFlags(["-o", "-v"], specs).strings.get("o"), "-v", "a string flag takes the next argument whatever it is");
  assert.equal(parseGoFlags(["-help"], specs).help, true);
});

test("bad flags are UsageErrors with Go's messages", () => {
  assert.throws(() => parseGoFlags(["-x"], specs), (e: unknown) => e instanceof UsageError && e.message === "flag provided but not defined: -x");
  assert.throws(() => parseGoFlags(["-o"], specs), /flag needs an argument: -o/);
  assert.throws(() => parseGoFlags(["---o"], specs), /bad flag syntax: ---o/);
  assert.throws(() => parseGoFlags(["-v=maybe"], specs), /invalid boolean value "maybe" for -v/);
});

test("-h, -help, --h and --help ask for help wherever the flags are, and a value is never taken for one", () => {
  for (const flag of ["-h", "-help", "--h", "--help"]) {
    assert.equal(parseGoFlags([flag], specs).help, true, flag);
    assert.equal(parseGoFlags(["-v", flag, "-o", "x"], specs).help, true, `-v ${flag} -o x`);
  }
  const titled = parseGoFlags(["-o", "help", "-o=-h"], specs);
  assert.equal(titled.help, false);
  assert.equal(titled.strings.get("o"), "-h");
  const afterUrl = parseGoFlags(["url", "-h"], specs);
  assert.equal(afterUrl.help, false, "after the first argument that is not a flag, -h is an argument");
  assert.deepEqual(afterUrl.positional, ["url", "-h"]);
});
