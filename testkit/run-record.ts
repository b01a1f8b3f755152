// What a long run (`npm run soak`, `npm run fuzz`) writes into docs/reliability.md: the
// commit and machine it ran on, inside a marked section the script owns.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { projectRoot } from "./paths.js";

export const RELIABILITY_DOC = path.join(projectRoot, "docs/reliability.md");

/** The short commit, and whether tracked files had uncommitted changes. */
export function commitDescription(): string {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: projectRoot, encoding: "utf8" }).trim();
  try {
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? " (with uncommitted changes)" : ""}`;
  } catch {
    return "unknown (not a git checkout)";
  }
}

export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/** Replaces what lies between `<!-- NAME:begin …-->` and `<!-- NAME:end -->` in docs/reliability.md with `text`. */
export function writeMarkedSection(name: string, text: string): void {
  const begin = `<!-- ${name}:begin`;
  const end = `<!-- ${name}:end -->`;
  const doc = fs.readFileSync(RELIABILITY_DOC, "utf8");
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${RELIABILITY_DOC} has no ${begin} … ${end} section`);
  const marker = `${begin} (written by \`npm run ${name}\`; edits here are overwritten) -->`;
  fs.writeFileSync(RELIABILITY_DOC, `${doc.slice(0, from)}${marker}\n${text}\n${doc.slice(to)}`);
}
