// `npm run fuzz [-- --requests N] [--seed S] [--connections C] [--minutes M] [--hang-timeout SECONDS] [--record]`:
// the fuzz of test/fuzz.test.ts (testkit/fuzz-session.ts), as long as you like, against a
// server process of its own. Prints the tally and the first failures; exit code 1 on any
// crash, 5xx, hung connection, garbled answer or damage found afterwards. With --record,
// rewrites the fuzz section of docs/reliability.md with the result.

import { parseArgs } from "node:util";
import { fuzzFindings, fuzzSummary, runFuzzSession } from "../testkit/fuzz-session.js";
import { commitDescription, machineDescription, writeMarkedSection } from "../testkit/run-record.js";
import { scratchDir } from "../testkit/scratch.js";
import { HANG_TIMEOUT_MS } from "../testkit/wait.js";

const USAGE = "usage: npm run fuzz -- [--requests N] [--seed S] [--connections C (1-64)] [--minutes M] [--hang-timeout SECONDS] [--record]\n";

let values;
try {
  ({ values } = parseArgs({
    options: {
      requests: { type: "string", default: "100000" },
      seed: { type: "string" },
      connections: { type: "string", default: "4" },
      minutes: { type: "string", default: "60" },
      "hang-timeout": { type: "string", default: String(HANG_TIMEOUT_MS / 1000) },
      record: { type: "boolean", default: false },
    },
  }));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const requests = Number(values.requests);
const connections = Number(values.connections);
const minutes = Number(values.minutes);
const hangSeconds = Number(values["hang-timeout"]);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isInteger(requests) || requests < 1 || !Number.isInteger(connections) || connections < 1 || connections > 64 ||
  !(minutes > 0) || !(hangSeconds > 0) || !Number.isInteger(seed)) {
  process.stderr.write(USAGE);
  process.exit(2);
}

const say = (line: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
say(`fuzz: ${requests} requests over ${connections} connections, at most ${minutes} minutes, seed ${seed} (replay with --seed ${seed})`);
const startedAt = new Date();
const result = await runFuzzSession({
  requests, seed, connections, dataDir: scratchDir("litepaste-fuzz"), hangTimeoutMs: hangSeconds * 1000, maxMs: minutes * 60_000,
});
const findings = fuzzFindings(result);
say(fuzzSummary(result));
for (const example of result.examples) say(`  ${example}`);
for (const finding of findings) say(`FINDING: ${finding}`);
if (result.crashed !== null) say(`server log, last lines:\n${result.serverLogTail}`);

if (values.record) {
  const counts = (n: number, what: string) => `${n} ${what}`;
  writeMarkedSection("fuzz", [
    `Last long fuzz run: ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC, commit ${commitDescription()}, ` +
      `\`npm run fuzz -- --requests ${requests} --seed ${seed}\` (${connections} connections), ${(result.seconds / 60).toFixed(1)} minutes; machine: ${machineDescription()}.`,
    `${result.sent} requests${result.stoppedEarly ? " (stopped at the time bound)" : ""}: ` +
      `${[counts(result.crashed === null ? 0 : 1, "crashes"), counts(result.fiveXx, "5xx answers"), counts(result.hung, "hung connections"), counts(result.garbled, "garbled answers")].join(", ")}; ` +
      `afterwards ${result.afterwards.length === 0 ? "healthy, every stored paste intact, clean shutdown, integrity_check ok" : result.afterwards.join("; ")}.`,
    `Outcomes: ${[...result.tally].sort().map(([k, n]) => `${k} × ${n}`).join(", ")} ("closed": the server closed the connection before answering, after a malformed or closing request).`,
  ].join("\n"));
  say("written to docs/reliability.md");
}
process.exit(findings.length === 0 && !result.stoppedEarly ? 0 : 1);
