// Loaded into s3rver's own process (`node --import`, see ./s3rver.ts). s3rver writes an
// object's file in place while the request streams in, so a client that dies mid-upload
// (the crash tests kill -9 litepaste) leaves a truncated object that lists and reads like
// any other: a restore then fails on "not an LZ4 frame". S3 never does that: a PUT is all
// or nothing. Here each object goes to a temporary file, renamed into place once the whole
// body has arrived; s3rver's listing ignores the temporary names (they lack its suffix).

import crypto from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly content: Buffer | NodeJS.ReadableStream;
  readonly metadata: unknown;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
}

const require = createRequire(import.meta.url);
const store = require("s3rver/lib/stores/filesystem.js") as { prototype: FilesystemStore };

store.prototype.putObject = async function (this: FilesystemStore, object: StoredObject) {
  const objectPath = this.getResourcePath(object.bucket, object.key, "object");
  await fs.promises.mkdir(objectPath.slice(0, objectPath.lastIndexOf("/")), { recursive: true });
  const partial = `${objectPath}.partial-${crypto.randomBytes(6).toString("hex")}`;
  const md5 = crypto.createHash("md5");
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const body = Buffer.isBuffer(object.content) ? [object.content] : object.content;
  try {
    await pipeline(body, count, fs.createWriteStream(partial));
    await fs.promises.rename(partial, objectPath);
  } catch (err) {
    await fs.promises.rm(partial, { force: true });
    throw err;
  }
  const digest = md5.digest("hex");
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
};
