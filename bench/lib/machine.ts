// What the report's header says about where and from what code the numbers came.

import { execFileSync } from "node:child_process";
import os from "node:os";
import Database from "better-sqlite3";
import { projectRoot } from "../../testkit/paths.js";

/** Files the run itself writes (README.md: its headline block); they do not make the tree dirty for the header's purpose. */
const OUTPUTS = ["docs/benchmarks.md", "docs/img", "README.md"];

export interface RunInfo {
  readonly date: string;
  readonly commit: string;
  readonly dirty: boolean;
  readonly cpu: string;
  readonly cores: number;
  readonly ramBytes: number;
  readonly os: string;
  readonly node: string;
  readonly sqlite: string;
}

function git(args: string[]): string {
  return execFileSync("git", args, { cwd: projectRoot, encoding: "utf8" }).trim();
}

export function runInfo(): RunInfo {
  const db = new Database(":memory:");
  const sqlite = db.prepare("SELECT sqlite_version()").pluck().get() as string;
  db.close();
  const cpus = os.cpus();
  const status = git(["status", "--porcelain", "--", ".", ...OUTPUTS.map((p) => `:!${p}`)]);
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    commit: git(["rev-parse", "--short=12", "HEAD"]),
    dirty: status !== "",
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    ramBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    sqlite,
  };
}
