// Atomic, durable file writes: a crash leaves the old file or the new one under its name,
// never a torn one. The one recipe every writer of a whole file uses: write a temporary
// file beside the target, fsync it, rename it over the target, fsync the directory (the
// rename is durable only once the directory is). Two forms of it: a synchronous one for
// the small JSON records beside the database (their callers are synchronous), and an
// asynchronous one for streamed contents (replica objects in a directory, a restored
// database), whose pieces (writeTempFile, fsyncDirectory) also serve a caller that
// publishes the temporary file otherwise (the file replica's create-if-absent by link()).

import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";

/** A fresh temporary name beside `file` (same directory, so that a rename is atomic). */
export function tempPathFor(file: string, prefix = ""): string {
  return path.join(path.dirname(file), `${prefix}${path.basename(file)}.tmp-${randomBytes(6).toString("hex")}`);
}

/** Writes `text` to `file` atomically and durably (for small records; blocks the thread). */
export function writeFileDurably(file: string, text: string): void {
  const temp = tempPathFor(file);
  try {
    const fd = openSync(temp, "wx");
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  const dir = openSync(path.dirname(file), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Makes a rename, link or create in `dir` durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface TempFileOptions {
  /** Opens (creates) the temporary file; by default exclusively, for reading and writing. */
  readonly open?: (temp: string) => Promise<fs.FileHandle>;
}

/**
 * Creates `temp`, lets `fill` write it, then fsyncs and closes it. The file is complete and
 * on disk when this resolves; on failure it is removed.
 */
export async function writeTempFile(temp: string, fill: (handle: fs.FileHandle) => Promise<void>, options: TempFileOptions = {}): Promise<void> {
  try {
    const handle = await (options.open ?? ((t) => fs.open(t, "wx+")))(temp);
    try {
      await fill(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}

export interface AtomicWriteOptions extends TempFileOptions {
  /** The temporary file; tempPathFor(file) by default. It must be in `file`'s directory. */
  readonly temp?: string;
  /**
   * Runs on the finished temporary file before it takes the target's name: a check that
   * throws leaves the target untouched. Whatever it creates beside the temporary file
   * (say, SQLite's `-journal`) is named in `leftovers`, removed if the write fails.
   */
  readonly beforeRename?: (temp: string) => Promise<void> | void;
  readonly leftovers?: (temp: string) => readonly string[];
}

/** Writes `file` through a temporary file: all of `fill`'s output appears under its name, or none. */
export async function writeFileAtomically(file: string, fill: (handle: fs.FileHandle) => Promise<void>, options: AtomicWriteOptions = {}): Promise<void> {
  const temp = options.temp ?? tempPathFor(file);
  await writeTempFile(temp, fill, options);
  try {
    await options.beforeRename?.(temp);
    await fs.rename(temp, file);
  } catch (err) {
    await Promise.all([temp, ...(options.leftovers?.(temp) ?? [])].map((f) => fs.rm(f, { force: true })));
    throw err;
  }
  await fsyncDirectory(path.dirname(file));
}
