// A replica in a local directory (a mounted volume, or tests). Objects are files at their
// keys; each is written to a hidden temporary file, fsynced and renamed, and the directory
// fsynced (internal/durable-file.ts), so a crash leaves either the whole object under its
// name or nothing.
//
// Conditional writes are real here: create-if-absent is a link() of the finished temporary
// file (which fails if the name exists), and compare-and-swap runs under a lock file made
// with O_EXCL; an etag is a hash of the contents. So a lease works on a shared directory.

import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { setTimeout as delay } from "node:timers/promises";
import { fsyncDirectory, tempPathFor, writeFileAtomically, writeTempFile } from "../../../internal/durable-file.js";
import { ConditionalWritesUnsupportedError, ReplicaObjectNotFoundError, type ConditionalReplicaClient, type ReplicaObject, type VersionedObject } from "../client.js";

/** Temporary files start with a dot, and listings skip dot-files. */
const TEMP_PREFIX = ".";
/** A compare-and-swap lock older than this was left by a crash: it is broken. */
const STALE_LOCK_MS = 10_000;
const LOCK_WAIT_MS = 5_000;

function etagOf(body: Buffer): string {
  return createHash("sha256").update(body).digest("hex").slice(0, 32);
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** No such object: the path is missing, or one of its folders is not a folder (as the listing sees it). */
function isAbsent(err: unknown): boolean {
  return errorCode(err) === "ENOENT" || errorCode(err) === "ENOTDIR";
}

export class FileReplicaClient implements ConditionalReplicaClient {
  readonly root: string;
  readonly description: string;

  /**
   * `onRequest` counts operations for metrics, under the names of the S3 requests they
   * stand for, so that a dashboard reads the same for both kinds of replica.
   */
  constructor(root: string, description?: string, private readonly onRequest: (operation: string) => void = () => {}) {
    this.root = path.resolve(root);
    this.description = description ?? pathToFileURL(this.root).href;
  }

  async put(key: string, body: Buffer): Promise<void> {
    this.onRequest("PutObject");
    await this.writeObject(key, async (handle) => {
      await handle.writeFile(body);
    });
  }

  async putStream(key: string, body: Readable): Promise<void> {
    this.onRequest("PutObject");
    await this.writeObject(key, async (handle) => {
      for await (const chunk of body) await handle.write(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    });
  }

  async get(key: string): Promise<Readable> {
    this.onRequest("GetObject");
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.pathOf(key), "r");
    } catch (err) {
      if (isAbsent(err)) throw new ReplicaObjectNotFoundError(key, this.description);
      throw new Error(`cannot read ${key} in ${this.description}: ${(err as Error).message}`, { cause: err });
    }
    return handle.createReadStream();
  }

  async getVersioned(key: string): Promise<VersionedObject | null> {
    this.onRequest("GetObject");
    let body: Buffer;
    try {
      body = await fs.readFile(this.pathOf(key));
    } catch (err) {
      if (isAbsent(err)) return null;
      throw new Error(`cannot read ${key} in ${this.description}: ${(err as Error).message}`, { cause: err });
    }
    return { body, etag: etagOf(body) };
  }

  async putIfAbsent(key: string, body: Buffer): Promise<string | null> {
    this.onRequest("PutObject");
    const created = await this.writeObject(key, async (handle) => {
      await handle.writeFile(body);
    }, "link");
    return created ? etagOf(body) : null;
  }

  async putIfMatch(key: string, body: Buffer, etag: string): Promise<string | null> {
    // Without a lock first: a stale etag (the usual conflict) or a missing object needs no lock.
    if ((await this.getVersioned(key))?.etag !== etag) return null;
    const file = this.pathOf(key);
    const lock = path.join(path.dirname(file), `${TEMP_PREFIX}${path.basename(file)}.lock`);
    await this.takeLock(lock, key);
    try {
      const current = await this.getVersioned(key);
      if (current?.etag !== etag) return null;
      await this.put(key, body);
      return etagOf(body);
    } finally {
      await fs.rm(lock, { force: true });
    }
  }

  async *list(prefix: string): AsyncIterable<ReplicaObject> {
    this.onRequest("ListObjectsV2");
    // Walk only the deepest directory the prefix names whole; filter the rest by key.
    const slash = prefix.lastIndexOf("/");
    const startKey = slash < 0 ? "" : prefix.slice(0, slash + 1);
    for await (const object of this.walk(startKey)) {
      if (object.key.startsWith(prefix)) yield object;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.onRequest("DeleteObjects");
    const parents = new Set<string>();
    for (const key of keys) {
      const file = this.pathOf(key);
      try {
        await fs.unlink(file);
      } catch (err) {
        if (errorCode(err) !== "ENOENT") throw new Error(`cannot delete ${key} in ${this.description}: ${(err as Error).message}`, { cause: err });
      }
      parents.add(path.dirname(file));
    }
    for (const dir of parents) await this.removeEmptyDirectories(dir);
  }

  /** The file for `key`; refuses keys that would leave the replica directory. */
  private pathOf(key: string): string {
    const parts = key.split("/");
    if (parts.some((p) => p === "" || p === "." || p === ".." || p.includes("\\")) || key.includes("\0")) {
      throw new Error(`invalid replica key "${key}"`);
    }
    return path.join(this.root, ...parts);
  }

  /** Waits for the lock file to be free and creates it; breaks a lock a crash left behind. */
  private async takeLock(lock: string, key: string): Promise<void> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await (await fs.open(lock, "wx")).close();
        return;
      } catch (err) {
        if (errorCode(err) !== "EEXIST") throw new Error(`cannot lock ${key} in ${this.description}: ${(err as Error).message}`, { cause: err });
      }
      const age = Date.now() - ((await fs.stat(lock).catch(() => null))?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) await fs.rm(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`${key} in ${this.description} stayed locked for ${LOCK_WAIT_MS} ms (lock file ${lock})`);
      else await delay(10 + Math.random() * 20);
    }
  }

  /**
   * Writes the object through a temporary file (../../../internal/durable-file.ts).
   * "replace" renames it over any existing object; "link" creates the name only if it is
   * free (link() fails if it exists) and returns false if it was taken.
   */
  private async writeObject(key: string, write: (handle: fs.FileHandle) => Promise<void>, mode: "replace" | "link" = "replace"): Promise<boolean> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    const temp = tempPathFor(file, TEMP_PREFIX);
    const open = (t: string) => this.createInDirectory(t);
    try {
      if (mode === "replace") {
        await writeFileAtomically(file, write, { temp, open });
        return true;
      }
      await writeTempFile(temp, write, { open });
      try {
        await fs.link(temp, file);
      } catch (err) {
        if (errorCode(err) === "EEXIST") return false;
        // Some network and FUSE file systems have no hard links: no lease there, only best effort.
        if (["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes(errorCode(err) ?? "")) {
          throw new ConditionalWritesUnsupportedError(`${this.description} has no hard links (${errorCode(err)}), so no atomic create`);
        }
        throw err;
      } finally {
        await fs.rm(temp, { force: true });
      }
      await fsyncDirectory(dir);
      return true;
    } catch (err) {
      await fs.rm(temp, { force: true });
      if (err instanceof ConditionalWritesUnsupportedError) throw err;
      throw new Error(`cannot write ${key} to ${this.description}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Creates the file and any missing directories (fsyncing each new directory's parent).
   * Retries when a concurrent delete removed an empty directory between mkdir and open.
   */
  private async createInDirectory(file: string): Promise<fs.FileHandle> {
    const dir = path.dirname(file);
    for (let attempt = 1; ; attempt++) {
      const firstCreated = await fs.mkdir(dir, { recursive: true });
      if (firstCreated !== undefined) {
        for (let d = dir; ; d = path.dirname(d)) {
          await fsyncDirectory(path.dirname(d));
          if (d === firstCreated) break;
        }
      }
      try {
        return await fs.open(file, "wx");
      } catch (err) {
        if (errorCode(err) !== "ENOENT" || attempt === 3) throw err;
      }
    }
  }

  /** Removes `dir` and its parents while they are empty, up to (not including) the root. */
  private async removeEmptyDirectories(dir: string): Promise<void> {
    for (let d = dir; d !== this.root && d.startsWith(this.root + path.sep); d = path.dirname(d)) {
      try {
        await fs.rmdir(d);
      } catch {
        return; // not empty, already gone, or not ours to remove: all fine
      }
    }
  }

  private async *walk(keyPrefix: string): AsyncGenerator<ReplicaObject> {
    const dir = keyPrefix === "" ? this.root : this.pathOf(keyPrefix.slice(0, -1));
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isAbsent(err)) return;
      throw new Error(`cannot list ${keyPrefix || "/"} in ${this.description}: ${(err as Error).message}`, { cause: err });
    }
    for (const entry of entries) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue;
      const key = keyPrefix + entry.name;
      if (entry.isDirectory()) {
        yield* this.walk(`${key}/`);
      } else if (entry.isFile()) {
        let stat;
        try {
          stat = await fs.stat(path.join(dir, entry.name));
        } catch (err) {
          if (errorCode(err) === "ENOENT") continue; // deleted while we listed
          throw err;
        }
        yield { key, size: stat.size, lastModified: stat.mtime };
      }
    }
  }
}
