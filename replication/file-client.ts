// A replica in a local directory (a mounted volume, or tests). Objects are files at their
// keys; each is written to a hidden temporary file, fsynced and renamed, and the directory
// fsynced, so a crash leaves either the whole object under its name or nothing.

import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { ReplicaObjectNotFoundError, type ReplicaClient, type ReplicaObject } from "./replica-client.js";

/** Temporary files start with a dot, and listings skip dot-files. */
const TEMP_PREFIX = ".";

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class FileReplicaClient implements ReplicaClient {
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
      if (errorCode(err) === "ENOENT") throw new ReplicaObjectNotFoundError(key, this.description);
      throw new Error(`cannot read ${key} in ${this.description}: ${(err as Error).message}`, { cause: err });
    }
    return handle.createReadStream();
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

  private async writeObject(key: string, write: (handle: fs.FileHandle) => Promise<void>): Promise<void> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    const temp = path.join(dir, `${TEMP_PREFIX}${path.basename(file)}.tmp-${randomBytes(6).toString("hex")}`);
    try {
      const handle = await this.createInDirectory(temp);
      try {
        await write(handle);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, file);
      await fsyncDirectory(dir);
    } catch (err) {
      await fs.rm(temp, { force: true });
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
      if (errorCode(err) === "ENOENT" || errorCode(err) === "ENOTDIR") return;
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
