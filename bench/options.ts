// The runner's command line (bench/run.ts), kept apart so it can be tested without running.

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

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], known: readonly string[]): Options | "help" {
  let only: string[] | null = null;
  let rounds = MIN_ROUNDS;
  let soak = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--only": {
        only = value().split(",").map((id) => id.trim()).filter(Boolean);
        const unknown = only.filter((id) => !known.includes(id));
        if (unknown.length > 0) throw new UsageError(`unknown scenario ${unknown.join(", ")}; the scenarios are ${known.join(", ")}`);
        break;
      }
      case "--rounds": {
        const text = value();
        rounds = Number(text);
        if (!/^\d+$/.test(text) || rounds < MIN_ROUNDS) throw new UsageError(`--rounds must be a whole number of at least ${MIN_ROUNDS}, got "${text}"`);
        break;
      }
      case "--soak":
        soak = true;
        break;
      case "-h":
      case "--help":
        return "help";
      default:
        throw new UsageError(`unknown option ${argv[i]}`);
    }
  }
  return { only, rounds, soak };
}

