import { after } from "node:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** A temp folder for one test file, removed after it; `newDir(name)` makes a fresh subfolder. */
export function useScratchDirs(prefix: string): (name: string) => string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  let counter = 0;
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  return (name) => fs.mkdtempSync(path.join(root, `${name}-${++counter}-`));
}
