// Temporary directories for tests, the bench and the soak: the one place that makes them.
// A test file's go when its tests end; a script's (or a helper's outside a test file) when
// the process exits.

import { after } from "node:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const exitRoots: string[] = [];

/** A fresh directory under `parent` (default: the system's temp directory), named `prefix-XXXXXX`. */
export function freshDir(prefix: string, parent = os.tmpdir()): string {
  return fs.mkdtempSync(path.join(parent, `${prefix}-`));
}

/** A temp directory removed when this process exits (scripts, and helpers not tied to one test). */
export function scratchDir(prefix: string): string {
  const dir = freshDir(prefix);
  if (exitRoots.length === 0) process.on("exit", () => exitRoots.forEach((root) => fs.rmSync(root, { recursive: true, force: true })));
  exitRoots.push(dir);
  return dir;
}

/** A temp folder for one test file (or the describe() it is called in), removed after it. */
export function useScratchDir(prefix: string): string {
  const root = freshDir(prefix);
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  return root;
}

/** A temp folder for one test file, removed after it; `newDir(name)` makes a fresh subfolder. */
export function useScratchDirs(prefix: string): (name: string) => string {
  const root = useScratchDir(prefix);
  let counter = 0;
  return (name) => freshDir(`${name}-${++counter}`, root);
}

/** A temp directory removed when the test `t` ends. */
export function testDir(t: { after(fn: () => void): void }, prefix = "litepaste-test"): string {
  const dir = freshDir(prefix);
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
