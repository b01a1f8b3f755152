import { test } from "node:test";
import assert from "node:assert/strict";
import { markdownTable, mergeReport, parseSections, sectionOf, updateHeadline, type RunStamp } from "./report.js";
import type { ScenarioResult } from "./scenario.js";

const stamp = (date: string): RunStamp => ({
  info: { date, commit: "abc123", dirty: false, cpu: "Test CPU", cores: 2, ramBytes: 2 ** 32, os: "Linux", node: "v20", sqlite: "3.53" },
  rounds: 3,
  store: "s3rver",
});

function result(measured: string, met: boolean): ScenarioResult {
  return {
    settings: { connections: "10" },
    tables: [{ caption: "req/s", columns: ["a", "b"], rows: [["x | y", 1234.5]] }],
    charts: [{ file: "x.svg", title: "X chart", spec: { data: { values: [] }, mark: "bar" } }],
    goals: [{ name: `goal of ${measured}`, goal: "≥ 0.8×", measured, met }],
    notes: ["a note with --> inside"],
  };
}

const ORDER = ["first", "second", "third"];

test("a section carries its tables, chart, notes and goals, and parses back", () => {
  const section = sectionOf({ id: "first", title: "First", stamp: stamp("2026-01-01"), result: result("0.9×", true) });
  assert.match(section.text, /\| x \\\| y \| 1,235 \|/);
  assert.match(section.text, /!\[X chart\]\(img\/x.svg\)/);
  assert.match(section.text, /- a note with --> inside/);
  assert.match(section.text, /Measured 2026-01-01 at commit `abc123`/);
  assert.deepEqual(section.meta.goals, result("0.9×", true).goals);
  assert.deepEqual(parseSections(`before\n${section.text}\nafter`).map((s) => s.text), [section.text]);
});

test("--only: fresh sections replace theirs, the others stay, the summary covers all", () => {
  const full = mergeReport(
    null,
    "HEADER 1",
    [
      sectionOf({ id: "second", title: "Second", stamp: stamp("2026-01-01"), result: result("old second", false) }),
      sectionOf({ id: "first", title: "First", stamp: stamp("2026-01-01"), result: result("old first", true) }),
    ],
    ORDER,
  );
  assert.ok(full.indexOf("## First") < full.indexOf("## Second"), "sections follow the registry's order");
  const rerun = mergeReport(full, "HEADER 2", [sectionOf({ id: "second", title: "Second", stamp: stamp("2026-02-02"), result: result("new second", true) })], ORDER);
  assert.doesNotMatch(rerun, /HEADER 1/);
  assert.match(rerun, /HEADER 2/);
  assert.doesNotMatch(rerun, /old second/);
  assert.match(rerun, /\| Second \| goal of new second \| ≥ 0.8× \| new second \| met \|/);
  assert.match(rerun, /\| First \| goal of old first \| ≥ 0.8× \| old first \| met \|/);
  const first = parseSections(full).find((s) => s.meta.id === "first")!;
  assert.ok(rerun.includes(first.text), "the untouched section is kept byte for byte");
  assert.deepEqual(parseSections(rerun).map((s) => s.meta.id), ["first", "second"]);
});

test("a failed scenario is reported as failed and counted as missed", () => {
  const doc = mergeReport(null, "H", [sectionOf({ id: "third", title: "Third", stamp: stamp("2026-01-01"), error: "Error: s3rver died" })], ORDER);
  assert.match(doc, /\*\*The scenario failed:\*\*\n\n```\nError: s3rver died\n```/);
  assert.match(doc, /\| Third \| — \| — \| the scenario failed \| \*\*missed\*\* \|/);
});

test("a section without its end marker is an error, not a silent loss", () => {
  const text = sectionOf({ id: "first", title: "First", stamp: stamp("2026-01-01"), result: result("x", true) }).text;
  const cut = text.slice(0, text.indexOf("<!-- bench-section-end"));
  assert.throws(() => parseSections(cut), /the section "first" has no end marker/);
});

test("markdownTable escapes pipes and line breaks in cells", () => {
  assert.equal(markdownTable(["a"], [["x|y\nz"]]), "| a |\n|---|\n| x\\|y z |");
});

test("the README's headline block lists every goal of the report; a README without the block is left alone", () => {
  const report = mergeReport(
    null,
    "H",
    [
      sectionOf({ id: "first", title: "First", stamp: stamp("2026-01-01"), result: result("0.91×", true) }),
      sectionOf({ id: "third", title: "Third", stamp: stamp("2026-01-01"), error: "boom" }),
    ],
    ORDER,
  );
  const readme = "# P\n\n## Performance\n\n<!-- bench-headline: written by npm run bench -->\nold numbers\n<!-- bench-headline-end -->\n\n## Next\n";
  const updated = updateHeadline(readme, report, "2 × Test CPU");
  assert.doesNotMatch(updated, /old numbers/);
  assert.match(updated, /Measured on 2 × Test CPU; .*\[docs\/benchmarks.md\]\(docs\/benchmarks.md\)/);
  assert.match(updated, /- goal of 0.91×: 0.91×, goal ≥ 0.8×: met\n- Third: the scenario failed\n\n<!-- bench-headline-end -->\n\n## Next\n$/);
  assert.equal(updateHeadline(updated, report, "2 × Test CPU"), updated, "rewriting is stable");
  assert.equal(updateHeadline("# P\n", report, "x"), "# P\n");
});
