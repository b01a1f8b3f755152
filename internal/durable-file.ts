// Small local records beside the database, written so that a crash leaves the old
// version or the new one, never a torn file.

import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import path from "node:path";

/** Writes `text` to `file` atomically: a temporary file, fsync, rename, directory fsync. */
export function writeFileDurably(file: string, text: string): void {
  const temp = `${file}.tmp-${randomBytes(6).toString("hex")}`;
  const fd = openSync(temp, "wx");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  const dir = openSync(path.dirname(file), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
