// `npm run bench [-- --only a,b] [--rounds N] [--soak]`: runs the scenarios in order, each
// against processes of its own, renders the charts into docs/img/ and writes
// docs/benchmarks.md (see bench/README.md).

import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../testkit/paths.js";
import { renderSvg } from "./lib/charts.js";
import { runInfo } from "./lib/machine.js";
import { openBenchStore } from "./lib/object-store.js";
import { mergeReport, renderHeader, sectionOf, updateHeadline, type RunStamp, type Section } from "./report.js";
import type { BenchContext, ScenarioResult } from "./scenario.js";
import { scenarios } from "./scenarios/index.js";
import { UsageError } from "../internal/usage-error.js";
import { parseArgs, usage } from "./options.js";
import { freshDir } from "../testkit/scratch.js";

const REPORT = path.join(projectRoot, "docs/benchmarks.md");
const IMAGES = path.join(projectRoot, "docs/img");
const README = path.join(projectRoot, "README.md");

async function main(): Promise<number> {
  let options;
  try {
    options = parseArgs(process.argv.slice(2), scenarios.map((s) => s.id));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${usage(scenarios)}`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(usage(scenarios));
    return 0;
  }
  const chosen = options.only ? scenarios.filter((s) => options.only!.includes(s.id)) : scenarios;
  const started = Date.now();
  const log = (message: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);

  const info = runInfo();
  const workRoot = freshDir("litepaste-bench");
  const removeWork = () => fs.rmSync(workRoot, { recursive: true, force: true });
  process.once("SIGINT", () => {
    removeWork();
    process.exit(130); // the exit handlers kill the servers and s3rver
  });
  const store = await openBenchStore(process.env, `bench-${info.date.replace(/[:]/g, "")}`);
  const stamp: RunStamp = { info, rounds: options.rounds, store: store.description };
  log(`commit ${info.commit}${info.dirty ? " (dirty)" : ""}, ${info.cores} × ${info.cpu}, store: ${store.description}`);

  const sections: Section[] = [];
  let failures = 0;
  try {
    for (const scenario of chosen) {
      const workDir = freshDir(scenario.id, workRoot);
      const ctx: BenchContext = {
        rounds: options.rounds,
        soak: options.soak,
        workDir,
        store,
        log: (message) => log(`${scenario.id}: ${message}`),
      };
      const scenarioStart = Date.now();
      log(`${scenario.id}: ${scenario.title}`);
      let result: ScenarioResult | undefined;
      let error: string | undefined;
      try {
        result = await scenario.run(ctx);
        fs.mkdirSync(IMAGES, { recursive: true });
        for (const chart of result.charts) fs.writeFileSync(path.join(IMAGES, chart.file), await renderSvg(chart.spec));
      } catch (err) {
        failures++;
        error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        log(`${scenario.id}: FAILED\n${error}`);
      } finally {
        fs.rmSync(workDir, { recursive: true, force: true });
      }
      log(`${scenario.id}: done in ${((Date.now() - scenarioStart) / 1000).toFixed(0)} s`);
      for (const goal of result?.goals ?? []) log(`  ${goal.met ? "met   " : "MISSED"} ${goal.name}: ${goal.measured} (goal ${goal.goal})`);
      sections.push(sectionOf({ id: scenario.id, title: scenario.title, stamp, result, error }));
    }
  } finally {
    await store.close();
    removeWork();
  }

  const existing = fs.existsSync(REPORT) ? fs.readFileSync(REPORT, "utf8") : null;
  const header = renderHeader(stamp, options.only, Date.now() - started);
  const report = mergeReport(existing, header, sections, scenarios.map((s) => s.id));
  fs.writeFileSync(REPORT, report);
  const readme = fs.readFileSync(README, "utf8");
  fs.writeFileSync(README, updateHeadline(readme, report, `${info.cores} × ${info.cpu}`));
  log(`wrote ${path.relative(projectRoot, REPORT)}${failures > 0 ? `; ${failures} scenario(s) failed` : ""}`);
  return failures > 0 ? 1 : 0;
}

process.exit(await main());
