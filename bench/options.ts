// The runner's command line (bench/run.ts), kept apart so it can be tested without running.

import { parseArgs as parseArgsOf } from "node:util";
import { UsageError } from "../internal/usage-error.js";
import type { Scenario } from "./scenario.js";

const MIN_ROUNDS = 3;

export interface Options {
  readonly only: readonly string[] | null;
  readonly rounds: number;
  readonly soak: boolean;
}

export function usage(scenarios: readonly Pick<Scenario, "id" | "title">[]): string {
  return `Usage: npm run bench [-- [--only ID[,ID…]] [--rounds N] [--soak]]

  --only ID,…   run only these scenarios; the other sections of docs/benchmarks.md are kept
  --rounds N    repeat each measurement N times (at least ${MIN_ROUNDS}; default ${MIN_ROUNDS})
  --soak        also run the 10-minute memory soak (part of the "memory" scenario)

Scenarios:
${scenarios.map((s) => `  ${s.id.padEnd(16)} ${s.title}`).join("\n")}

BENCH_REPLICA_URL=s3://bucket/prefix points the S3 scenarios at a real bucket (bench/README.md).
`;
}

/** Reads the runner's arguments, in order (so `--rounds 2 --help` is still an error), with node:util's parser. */
export function parseArgs(argv: readonly string[], known: readonly string[]): Options | "help" {
  const { tokens } = parseArgsOf({
    args: [...argv],
    options: { only: { type: "string" }, rounds: { type: "string" }, soak: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  let only: string[] | null = null;
  let rounds = MIN_ROUNDS;
  let soak = false;
  for (const token of tokens) {
    if (token.kind !== "option") throw new UsageError(`unknown option ${token.kind === "positional" ? token.value : "--"}`);
    const value = () => {
      if (token.value === undefined || token.value === "") throw new UsageError(`${token.rawName} needs a value`);
      return token.value;
    };
    switch (token.name) {
      case "only": {
        only = value().split(",").map((id) => id.trim()).filter(Boolean);
        const unknown = only.filter((id) => !known.includes(id));
        if (unknown.length > 0) throw new UsageError(`unknown scenario ${unknown.join(", ")}; the scenarios are ${known.join(", ")}`);
        break;
      }
      case "rounds": {
        const text = value();
        rounds = Number(text);
        if (!/^\d+$/.test(text) || rounds < MIN_ROUNDS) throw new UsageError(`--rounds must be a whole number of at least ${MIN_ROUNDS}, got "${text}"`);
        break;
      }
      case "soak":
        soak = true;
        break;
      case "help":
        return "help";
      default:
        throw new UsageError(`unknown option ${token.rawName}`);
    }
  }
  return { only, rounds, soak };
}
