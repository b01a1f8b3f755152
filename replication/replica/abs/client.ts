// A replica in an Azure Blob Storage container, over @azure/storage-blob, as Litestream
// v0.3's `abs` replica type names it:
//
//   abs://ACCOUNT@CONTAINER/PATH, the key in LITESTREAM_AZURE_ACCOUNT_KEY
//
// Litestream takes the endpoint from litestream.yml only (default
// https://ACCOUNT.blob.core.windows.net); litepaste also reads `?endpoint=URL` so that a
// URL alone can name Azurite or a sovereign cloud.
//
// Blobs have real conditional writes (If-None-Match: * and If-Match: ETAG on Put Blob), so
// the replica lease is atomic here.

import { RestError, StorageSharedKeyCredential, newPipeline, BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { Readable } from "node:stream";
import {
  ReplicaObjectNotFoundError, type ConditionalReplicaClient, type ReplicaObject, type VersionedObject,
} from "../client.js";
import { ReplicaUrlError } from "../url.js";
import { keyPrefix, parseBackendUrl, type BackendOpenOptions } from "../backend-url.js";

const FORM = "abs://ACCOUNT@CONTAINER/PATH[?endpoint=URL] with LITESTREAM_AZURE_ACCOUNT_KEY";
/** Litestream's name for the account key. */
export const ACCOUNT_KEY_ENV = "LITESTREAM_AZURE_ACCOUNT_KEY";
/** Blocks of a streamed upload (snapshots), and how many go up at once: 8 MiB in memory at most. */
const UPLOAD_BLOCK_BYTES = 4 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 2;
/** Deletes run one request per blob; this many at once. */
const DELETE_CONCURRENCY = 8;
const LIST_PAGE_SIZE = 5000;
/** Per attempt; the SDK retries a failed request (3 attempts in all, as the S3 client makes). */
const TRY_TIMEOUT_MS = 60_000;
const MAX_TRIES = 3;

export interface AbsLocation {
  readonly accountName: string;
  readonly container: string;
  /** "" or a path ending in "/". */
  readonly prefix: string;
  /** The Blob service URL, e.g. https://ACCOUNT.blob.core.windows.net or http://127.0.0.1:10000/devstoreaccount1 */
  readonly endpoint: string;
}

/** Where an abs:// URL points; throws ReplicaUrlError. */
export function parseAbsUrl(url: string, description: string): AbsLocation {
  const { url: parsed, path, invalid } = parseBackendUrl(url, description, FORM, ["endpoint"]);
  if (parsed.password) invalid(`the account key does not belong in the URL: set ${ACCOUNT_KEY_ENV}`);
  const accountName = decodeURIComponent(parsed.username);
  if (accountName === "") invalid("the storage account is missing (abs://ACCOUNT@CONTAINER/PATH)");
  const container = decodeURIComponent(parsed.hostname);
  if (container === "") invalid("the container is missing");
  if (parsed.port !== "") invalid("a container name has no port: put the endpoint in ?endpoint=");
  const endpointSetting = parsed.searchParams.get("endpoint");
  let endpoint = `https://${accountName}.blob.core.windows.net`;
  if (endpointSetting !== null) {
    let e: URL;
    try {
      e = new URL(endpointSetting);
    } catch {
      invalid("the endpoint is not a URL");
    }
    if (e!.protocol !== "http:" && e!.protocol !== "https:") invalid("the endpoint must be an http:// or https:// URL");
    if (e!.username || e!.password || e!.search) invalid("the endpoint must not carry credentials or a query (a SAS token): set " + ACCOUNT_KEY_ENV);
    endpoint = endpointSetting.replace(/\/+$/, "");
  }
  return { accountName, container, prefix: keyPrefix(path), endpoint };
}

interface AzureError {
  name?: string;
  code?: string;
  statusCode?: number;
  message?: string;
}

const NETWORK_ERRORS = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);

export class AbsReplicaClient implements ConditionalReplicaClient {
  readonly description: string;
  readonly container: ContainerClient;
  private readonly onRequest: (operation: string) => void;
  /** Blobs per List Blobs page; smaller only in tests, which page through few blobs. */
  private readonly listPageSize: number;

  constructor(readonly location: AbsLocation, accountKey: string, options: BackendOpenOptions & { readonly listPageSize?: number }) {
    this.description = options.description;
    this.listPageSize = options.listPageSize ?? LIST_PAGE_SIZE;
    this.onRequest = options.onRequest ?? (() => {});
    const pipeline = newPipeline(new StorageSharedKeyCredential(location.accountName, accountKey), {
      retryOptions: { maxTries: MAX_TRIES, tryTimeoutInMs: TRY_TIMEOUT_MS },
    });
    this.container = new BlobServiceClient(location.endpoint, pipeline).getContainerClient(location.container);
  }

  async put(key: string, body: Buffer): Promise<void> {
    this.onRequest("PutObject");
    try {
      await this.blob(key).upload(body, body.byteLength);
    } catch (err) {
      throw this.translate(err, "Put Blob", key);
    }
  }

  async putStream(key: string, body: Readable): Promise<void> {
    this.onRequest("PutObject");
    try {
      await this.blob(key).uploadStream(body, UPLOAD_BLOCK_BYTES, UPLOAD_CONCURRENCY);
    } catch (err) {
      body.destroy();
      throw this.translate(err, "Put Block List", key);
    }
  }

  async get(key: string): Promise<Readable> {
    this.onRequest("GetObject");
    try {
      const response = await this.blob(key).download();
      if (!(response.readableStreamBody instanceof Readable)) throw new Error("the response has no body stream");
      return response.readableStreamBody;
    } catch (err) {
      throw this.translate(err, "Get Blob", key);
    }
  }

  async getVersioned(key: string): Promise<VersionedObject | null> {
    this.onRequest("GetObject");
    try {
      const blob = this.blob(key);
      const response = await blob.download();
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody!) chunks.push(chunk as Buffer);
      return { body: Buffer.concat(chunks), etag: response.etag ?? "" };
    } catch (err) {
      const translated = this.translate(err, "Get Blob", key);
      if (translated instanceof ReplicaObjectNotFoundError) return null;
      throw translated;
    }
  }

  putIfAbsent(key: string, body: Buffer): Promise<string | null> {
    return this.putConditionally(key, body, { ifNoneMatch: "*" });
  }

  putIfMatch(key: string, body: Buffer, etag: string): Promise<string | null> {
    return this.putConditionally(key, body, { ifMatch: etag });
  }

  /** 412 (ConditionNotMet), 409 (BlobAlreadyExists) and 404 (If-Match on a missing blob) all mean: not written. */
  private async putConditionally(key: string, body: Buffer, conditions: { ifNoneMatch: string } | { ifMatch: string }): Promise<string | null> {
    this.onRequest("PutObject");
    try {
      const response = await this.blob(key).upload(body, body.byteLength, { conditions });
      return response.etag ?? "";
    } catch (err) {
      const e = err as AzureError;
      if (e.statusCode === 412 || (e.statusCode === 409 && e.code === "BlobAlreadyExists") || (e.statusCode === 404 && e.code === "BlobNotFound")) return null;
      throw this.translate(err, "Put Blob", key);
    }
  }

  async *list(prefix: string): AsyncIterable<ReplicaObject> {
    const pages = this.container.listBlobsFlat({ prefix: this.location.prefix + prefix }).byPage({ maxPageSize: this.listPageSize });
    for (;;) {
      this.onRequest("ListObjectsV2");
      let page;
      try {
        page = await pages.next();
      } catch (err) {
        throw this.translate(err, "List Blobs", prefix);
      }
      if (page.done) return;
      for (const item of page.value.segment.blobItems) {
        if (!item.name.startsWith(this.location.prefix)) continue;
        yield {
          key: item.name.slice(this.location.prefix.length),
          size: item.properties.contentLength ?? 0,
          lastModified: item.properties.lastModified,
        };
      }
      if (!page.value.continuationToken) return;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        this.onRequest("DeleteObjects");
        try {
          await this.blob(key).deleteIfExists();
        } catch (err) {
          throw this.translate(err, "Delete Blob", key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, keys.length) }, worker));
  }

  private blob(key: string) {
    return this.container.getBlockBlobClient(this.location.prefix + key);
  }

  /** A clear error for a failed `operation` on `key` (relative to the replica); never quotes the account key. */
  private translate(err: unknown, operation: string, key: string): Error {
    const e = (err ?? {}) as AzureError;
    const where = this.description;
    if (e.statusCode === 404 && e.code === "BlobNotFound" && operation === "Get Blob") return new ReplicaObjectNotFoundError(key, where);
    if (e.code === "ContainerNotFound") {
      return new Error(`Azure container "${this.location.container}" does not exist in account "${this.location.accountName}" (replica ${where})`, { cause: err });
    }
    if (e.statusCode === 403 || e.code === "AuthenticationFailed" || e.code === "AuthorizationFailure") {
      return new Error(
        `Azure rejected the credentials (${e.code ?? e.statusCode}) for ${operation} in ${where}: check ${ACCOUNT_KEY_ENV} for account "${this.location.accountName}"`,
        { cause: err },
      );
    }
    if (NETWORK_ERRORS.has(e.code ?? "") || (err instanceof RestError && e.statusCode === undefined)) {
      return new Error(`cannot reach the Azure Blob endpoint ${this.location.endpoint} (${e.code ?? e.name}: ${e.message ?? ""}) for ${where}`, { cause: err });
    }
    return new Error(`Azure ${operation} of ${key || "/"} failed in ${where}: ${e.code ?? e.statusCode ?? e.name ?? "error"}: ${e.message ?? String(err)}`, { cause: err });
  }
}

/** The abs:// replica type's opener (see ../url.ts); throws ReplicaUrlError. */
export function openAbsReplicaClient(url: string, env: NodeJS.ProcessEnv, options: BackendOpenOptions): AbsReplicaClient {
  const location = parseAbsUrl(url, options.description);
  const accountKey = env[ACCOUNT_KEY_ENV];
  if (!accountKey) throw new ReplicaUrlError(`${ACCOUNT_KEY_ENV} is not set: the abs replica ${options.description} needs the storage account's key`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(accountKey)) throw new ReplicaUrlError(`${ACCOUNT_KEY_ENV} is not base64, as an Azure account key is (for ${options.description})`);
  return new AbsReplicaClient(location, accountKey, options);
}
