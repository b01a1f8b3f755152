// A replica in a Google Cloud Storage bucket, over @google-cloud/storage, as Litestream
// v0.3's `gcs` replica type names it:
//
//   gcs://BUCKET/PATH, credentials by Google's application-default chain
//   (GOOGLE_APPLICATION_CREDENTIALS naming a service-account key file, or the metadata
//   server on Google Cloud)
//
// `?endpoint=URL` (or STORAGE_EMULATOR_HOST, the library's own setting) points it at a
// GCS-compatible server; no such server could be run on the project's machines, so this
// client is tested short of the network (see docs/replication.md for the tested
// alternative: GCS's S3-compatible endpoint through s3://).
//
// Etags are object generations: conditional writes are GCS preconditions
// (ifGenerationMatch: 0 creates only, ifGenerationMatch: N swaps only version N).

import { Storage, type Bucket, type File, type StorageOptions } from "@google-cloud/storage";
import type { Readable } from "node:stream";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import { ReplicaObjectNotFoundError, type ConditionalReplicaClient, type ReplicaObject, type VersionedObject } from "../client.js";
import { keyPrefix, parseBackendUrl, type BackendOpenOptions } from "../backend-url.js";

const FORM = "gcs://BUCKET/PATH[?endpoint=URL], with GOOGLE_APPLICATION_CREDENTIALS or Google's default credentials";
const LIST_PAGE_SIZE = 1000;
const DELETE_CONCURRENCY = 8;
/** Attempts per request, as the S3 client makes. */
const MAX_RETRIES = 2;
const NETWORK_ERRORS = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);

export interface GcsLocation {
  readonly bucket: string;
  /** "" or a path ending in "/". */
  readonly prefix: string;
  /** A GCS-compatible server instead of storage.googleapis.com. */
  readonly endpoint: string | undefined;
}

/** Where a gcs:// URL points; throws ReplicaUrlError. */
export function parseGcsUrl(url: string, description: string, env: NodeJS.ProcessEnv): GcsLocation {
  const { url: parsed, path, invalid } = parseBackendUrl(url, description, FORM, ["endpoint"]);
  if (parsed.username || parsed.password) invalid("credentials do not belong in the URL: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file");
  const bucket = decodeURIComponent(parsed.hostname);
  if (bucket === "") invalid("the bucket name is missing");
  if (parsed.port !== "") invalid("a bucket name has no port: put a custom server in ?endpoint=");
  const endpointSetting = parsed.searchParams.get("endpoint") || env.STORAGE_EMULATOR_HOST || undefined;
  if (endpointSetting !== undefined) {
    let e: URL | undefined;
    try {
      e = new URL(endpointSetting);
    } catch {
      invalid("the endpoint is not a URL");
    }
    if (e!.protocol !== "http:" && e!.protocol !== "https:") invalid("the endpoint must be an http:// or https:// URL");
    if (e!.username || e!.password) invalid("the endpoint must not carry credentials");
  }
  return { bucket, prefix: keyPrefix(path), endpoint: endpointSetting?.replace(/\/+$/, "") };
}

/** Every Storage setting replication depends on, in one place. */
export function gcsStorageOptions(location: GcsLocation, env: NodeJS.ProcessEnv): StorageOptions {
  const options: StorageOptions = {
    retryOptions: { autoRetry: true, maxRetries: MAX_RETRIES },
  };
  // Named explicitly so that the environment handed to us is the one used (the library
  // would read process.env itself).
  if (env.GOOGLE_APPLICATION_CREDENTIALS) options.keyFilename = env.GOOGLE_APPLICATION_CREDENTIALS;
  if (location.endpoint !== undefined) options.apiEndpoint = location.endpoint;
  return options;
}

interface GcsError {
  code?: number | string;
  message?: string;
  errors?: Array<{ reason?: string }>;
}

/** A clear error for a failed GCS `operation` on `key` in the replica `where`; never quotes a credential. */
export function translateGcsError(err: unknown, operation: string, key: string, location: GcsLocation, where: string): Error {
  const e = (err ?? {}) as GcsError;
  const message = e.message ?? String(err);
  if (e.code === 404 && /bucket/i.test(message) && !/object/i.test(message)) {
    return new Error(`GCS bucket "${location.bucket}" does not exist (replica ${where})`, { cause: err });
  }
  if (e.code === 404 && operation === "get") return new ReplicaObjectNotFoundError(key, where);
  if (e.code === 401 || e.code === 403) {
    return new Error(
      `GCS rejected the credentials (${e.code}) for ${operation} in ${where}: check GOOGLE_APPLICATION_CREDENTIALS` +
        (e.code === 403 ? `, and that the account may ${operation} on bucket "${location.bucket}"` : ""),
      { cause: err },
    );
  }
  if (/could not load the default credentials/i.test(message)) {
    return new Error(`no GCS credentials for ${where}: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or run where Google's metadata server answers`, { cause: err });
  }
  if (NETWORK_ERRORS.has(String(e.code ?? "")) || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|socket hang up/.test(message)) {
    const endpoint = location.endpoint ?? "storage.googleapis.com";
    return new Error(`cannot reach GCS endpoint ${endpoint} (${e.code ?? "network error"}: ${message}) for ${where}`, { cause: err });
  }
  return new Error(`GCS ${operation} of ${key || "/"} failed in ${where}: ${e.code ?? "error"}: ${message}`, { cause: err });
}

export class GcsReplicaClient implements ConditionalReplicaClient {
  readonly description: string;
  readonly bucket: Bucket;
  private readonly onRequest: (operation: string) => void;

  constructor(readonly location: GcsLocation, storageOptions: StorageOptions, options: BackendOpenOptions) {
    this.description = options.description;
    this.onRequest = options.onRequest ?? (() => {});
    this.bucket = new Storage(storageOptions).bucket(location.bucket);
  }

  async put(key: string, body: Buffer): Promise<void> {
    this.onRequest("PutObject");
    try {
      await this.file(key).save(body, { resumable: false });
    } catch (err) {
      throw this.translate(err, "put", key);
    }
  }

  async putStream(key: string, body: Readable): Promise<void> {
    this.onRequest("PutObject");
    // One streamed request (not a resumable upload): a failed snapshot is taken again anyway.
    const upload = this.file(key).createWriteStream({ resumable: false });
    try {
      await pipeline(body, upload);
    } catch (err) {
      body.destroy();
      throw this.translate(err, "put", key);
    }
  }

  async get(key: string): Promise<Readable> {
    this.onRequest("GetObject");
    const stream = this.file(key).createReadStream({ validation: false });
    // The library reports a missing object on the stream: wait for the answer to start.
    try {
      await Promise.race([once(stream, "response"), once(stream, "readable")]);
    } catch (err) {
      throw this.translate(err, "get", key);
    }
    return stream;
  }

  async getVersioned(key: string): Promise<VersionedObject | null> {
    this.onRequest("GetObject");
    try {
      const [metadata] = await this.file(key).getMetadata();
      const [body] = await this.bucket.file(this.location.prefix + key, { generation: metadata.generation! }).download();
      return { body, etag: String(metadata.generation) };
    } catch (err) {
      const translated = this.translate(err, "get", key);
      if (translated instanceof ReplicaObjectNotFoundError) return null;
      throw translated;
    }
  }

  putIfAbsent(key: string, body: Buffer): Promise<string | null> {
    return this.putConditionally(key, body, 0);
  }

  async putIfMatch(key: string, body: Buffer, etag: string): Promise<string | null> {
    // An etag that is not a generation can match no object.
    if (!/^[1-9][0-9]*$/.test(etag)) return null;
    return this.putConditionally(key, body, Number(etag));
  }

  /** 412: the precondition failed; 404: the object to swap is gone. Both mean: not written. */
  private async putConditionally(key: string, body: Buffer, ifGenerationMatch: number): Promise<string | null> {
    this.onRequest("PutObject");
    const file = this.file(key);
    try {
      await file.save(body, { resumable: false, preconditionOpts: { ifGenerationMatch } });
      return String(file.metadata.generation);
    } catch (err) {
      const code = (err as GcsError).code;
      if (code === 412 || (code === 404 && ifGenerationMatch !== 0)) return null;
      throw this.translate(err, "put", key);
    }
  }

  async *list(prefix: string): AsyncIterable<ReplicaObject> {
    let pageToken: string | undefined;
    do {
      this.onRequest("ListObjectsV2");
      let files: File[];
      let next: { pageToken?: string } | null | undefined;
      try {
        [files, next] = await this.bucket.getFiles({ prefix: this.location.prefix + prefix, autoPaginate: false, maxResults: LIST_PAGE_SIZE, pageToken });
      } catch (err) {
        throw this.translate(err, "list", prefix);
      }
      for (const file of files) {
        if (!file.name.startsWith(this.location.prefix)) continue;
        yield {
          key: file.name.slice(this.location.prefix.length),
          size: Number(file.metadata.size ?? 0),
          lastModified: new Date(file.metadata.updated ?? 0),
        };
      }
      pageToken = next?.pageToken;
    } while (pageToken);
  }

  async delete(keys: readonly string[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        this.onRequest("DeleteObjects");
        try {
          await this.file(key).delete({ ignoreNotFound: true });
        } catch (err) {
          throw this.translate(err, "delete", key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, keys.length) }, worker));
  }

  private file(key: string): File {
    return this.bucket.file(this.location.prefix + key);
  }

  private translate(err: unknown, operation: string, key: string): Error {
    return translateGcsError(err, operation, key, this.location, this.description);
  }
}

/** The gcs:// replica type's opener (see ../url.ts); throws ReplicaUrlError. */
export function openGcsReplicaClient(url: string, env: NodeJS.ProcessEnv, options: BackendOpenOptions): GcsReplicaClient {
  const location = parseGcsUrl(url, options.description, env);
  return new GcsReplicaClient(location, gcsStorageOptions(location, env), options);
}
