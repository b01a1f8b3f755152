// Reading the main database file without the POSIX lock trap.
//
// SQLite locks the database with POSIX advisory locks, which belong to the process, not to
// a file descriptor: close() on ANY descriptor of the file drops EVERY lock this process
// holds on it, silently, and another process may then write under SQLite's feet. So the
// replicator never opens and closes the database file: it opens one read-only descriptor
// per file (per inode) the first time it needs one and keeps it for the life of the process.

import { createHash } from "node:crypto";
import { fstatSync, openSync, read, statSync } from "node:fs";
import { promisify } from "node:util";

const readAsync = promisify(read);

/** "dev:ino" → a descriptor that is never closed (see above). */
const descriptors = new Map<string, number>();

function inodeKey(stat: { dev: number; ino: number }): string {
  return `${stat.dev}:${stat.ino}`;
}

/** A read-only descriptor of the file now at `dbPath`; the same one every time for the same inode. */
export function databaseDescriptor(dbPath: string): number {
  for (;;) {
    const known = descriptors.get(inodeKey(statSync(dbPath)));
    if (known !== undefined) return known;
    const fd = openSync(dbPath, "r");
    const key = inodeKey(fstatSync(fd));
    // If another call registered this inode meanwhile, this descriptor stays open unused:
    // closing it would be the very trap this module exists to avoid.
    if (!descriptors.has(key)) descriptors.set(key, fd);
    // The path may have been replaced between stat and open: look it up again.
  }
}

/** Reads up to `length` bytes at `position`; fewer only at the end of the file. */
export async function readDatabaseBytes(fd: number, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await readAsync(fd, buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

export interface DatabaseFingerprint {
  readonly size: number;
  readonly sha256: string;
}

/** Size and SHA-256 of the database file, read through the long-lived descriptor. */
export async function fingerprintDatabase(dbPath: string): Promise<DatabaseFingerprint> {
  const fd = databaseDescriptor(dbPath);
  const size = fstatSync(fd).size;
  const hash = createHash("sha256");
  const chunkSize = 1 << 20;
  for (let position = 0; position < size; position += chunkSize) {
    const chunk = await readDatabaseBytes(fd, Math.min(chunkSize, size - position), position);
    hash.update(chunk);
    if (chunk.length < Math.min(chunkSize, size - position)) {
      throw new Error(`${dbPath} shrank while it was being read`);
    }
  }
  return { size, sha256: hash.digest("hex") };
}
