// A replica in an S3 bucket (AWS or any S3-compatible store), over @aws-sdk/client-s3 v3.
// SDK errors are turned into messages a person can act on; none of them carries a secret.

import {
  DeleteObjectsCommand, GetBucketLocationCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { Readable } from "node:stream";
import { DEFAULT_REGION } from "./host.js";
import {
  ConditionalWritesUnsupportedError, ReplicaObjectNotFoundError, type ConditionalReplicaClient, type ReplicaObject, type VersionedObject,
} from "../client.js";

/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3ReplicaClientOptions {
  readonly bucket: string;
  /** Key prefix of the replica inside the bucket: "" or a path ending in "/". */
  readonly prefix: string;
  /** Undefined: an AWS bucket whose region is looked up on first use (see bucketRegion). */
  readonly region: string | undefined;
  /** A custom endpoint (MinIO, R2, B2, s3rver…); undefined for AWS itself. */
  readonly endpoint?: string;
  readonly forcePathStyle: boolean;
  /** Accept any TLS certificate (Litestream's skip-verify: a self-signed MinIO, say). */
  readonly skipVerify?: boolean;
  /** Undefined: the SDK's default credential chain (profiles, SSO, instance roles…). */
  readonly credentials?: S3Credentials;
  /** Where the credentials came from, for error messages (never the credentials themselves). */
  readonly credentialsSource: string;
  /** The replica URL without secrets. */
  readonly description: string;
  /** Called once per HTTP request sent (retries included), with its operation name, e.g. "PutObject". */
  readonly onRequest?: (operation: string) => void;
}

/** Every S3Client setting replication depends on, in one place. */
export function s3ClientConfig(options: S3ReplicaClientOptions): S3ClientConfig {
  const config: S3ClientConfig = {
    region: options.region ?? DEFAULT_REGION,
    forcePathStyle: options.forcePathStyle,
    // A request signed for the wrong region gets a 301 naming the bucket's region: sign
    // again for that one instead of failing (the safety net when the region lookup could
    // not be done, or the bucket moved).
    followRegionRedirects: true,
    // Fail over to our error handling instead of hanging on an endpoint that went silent.
    requestHandler: {
      connectionTimeout: 10_000,
      socketTimeout: 60_000,
      ...(options.skipVerify ? { httpsAgent: { rejectUnauthorized: false } } : {}),
    },
  };
  if (options.credentials) config.credentials = { ...options.credentials };
  if (options.endpoint !== undefined) {
    config.endpoint = options.endpoint;
    // Flexible checksums (SDK ≥ 3.729) are mis-handled by many S3 clones: s3rver, for one,
    // stores the aws-chunked framing as the object's body.
    config.requestChecksumCalculation = "WHEN_REQUIRED";
    config.responseChecksumValidation = "WHEN_REQUIRED";
  }
  return config;
}

const CREDENTIAL_ERRORS = new Set([
  "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "TokenRefreshRequired",
]);
/** The IAM action each operation needs (docs/replication.md's policy grants them all). */
const IAM_ACTIONS: Record<string, string> = {
  GetObject: "s3:GetObject", PutObject: "s3:PutObject", ListObjectsV2: "s3:ListBucket", DeleteObjects: "s3:DeleteObject",
};
const NETWORK_ERRORS = new Set([
  "ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE",
]);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Calls `onRequest` once per HTTP request `client` sends, retries and redirects included. */
function countRequests(client: S3Client, onRequest: ((operation: string) => void) | undefined): S3Client {
  if (!onRequest) return client;
  client.middlewareStack.add(
    (next, context) => (args) => {
      onRequest(context.commandName?.replace(/Command$/, "") ?? "unknown");
      return next(args);
    },
    // Inside the retry middleware (finalizeRequest), so that every attempt counts.
    { step: "deserialize", name: "litepasteCountRequests" },
  );
  return client;
}

/** Answers that mean "you may not ask": the region is then found by redirects instead. */
const LOOKUP_REFUSALS = new Set(["AccessDenied", "Forbidden", "NotImplemented", "MethodNotAllowed"]);

/**
 * The region of an AWS bucket, as Litestream finds it: GetBucketLocation sent to
 * us-east-1 (an empty answer means us-east-1; "EU" is the old name of eu-west-1). When
 * the credentials may not ask, us-east-1 and the client's region redirects do the rest.
 */
async function lookUpBucketRegion(options: S3ReplicaClientOptions): Promise<string> {
  const client = countRequests(new S3Client(s3ClientConfig({ ...options, region: DEFAULT_REGION })), options.onRequest);
  try {
    const { LocationConstraint } = await client.send(new GetBucketLocationCommand({ Bucket: options.bucket }));
    if (!LocationConstraint) return DEFAULT_REGION;
    return LocationConstraint === "EU" ? "eu-west-1" : LocationConstraint;
  } catch (err) {
    const e = err as SdkError;
    if (LOOKUP_REFUSALS.has(e.name ?? "") || e.$metadata?.httpStatusCode === 403) return DEFAULT_REGION;
    throw err;
  } finally {
    client.destroy();
  }
}

export class S3ReplicaClient implements ConditionalReplicaClient {
  readonly description: string;
  readonly s3: S3Client;
  private readonly options: S3ReplicaClientOptions;
  /** Pending or found; cleared on failure so that the next request asks again. */
  private regionLookup: Promise<string> | undefined;

  constructor(options: S3ReplicaClientOptions) {
    this.options = options;
    this.description = options.description;
    const config = s3ClientConfig(options);
    if (options.region === undefined) config.region = () => this.bucketRegion();
    this.s3 = countRequests(new S3Client(config), options.onRequest);
  }

  /** The bucket's region, looked up once (the SDK asks for it on every request). */
  bucketRegion(): Promise<string> {
    if (this.options.region !== undefined) return Promise.resolve(this.options.region);
    this.regionLookup ??= lookUpBucketRegion(this.options).catch((err: unknown) => {
      this.regionLookup = undefined;
      throw err;
    });
    return this.regionLookup;
  }

  async put(key: string, body: Buffer): Promise<void> {
    try {
      await this.s3.send(new PutObjectCommand({
        Bucket: this.options.bucket, Key: this.options.prefix + key, Body: body, ContentLength: body.byteLength,
      }));
    } catch (err) {
      throw this.translate(err, "PutObject", key);
    }
  }

  async getVersioned(key: string): Promise<VersionedObject | null> {
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.options.prefix + key }));
      const body = Buffer.from(await response.Body!.transformToByteArray());
      return { body, etag: response.ETag ?? "" };
    } catch (err) {
      const translated = this.translate(err, "GetObject", key);
      if (translated instanceof ReplicaObjectNotFoundError) return null;
      throw translated;
    }
  }

  putIfAbsent(key: string, body: Buffer): Promise<string | null> {
    return this.putConditionally(key, body, { IfNoneMatch: "*" });
  }

  putIfMatch(key: string, body: Buffer, etag: string): Promise<string | null> {
    return this.putConditionally(key, body, { IfMatch: etag });
  }

  /**
   * 412 (the condition failed), 409 (a concurrent conditional write won) and 404 (If-Match
   * on a missing object) all mean: not written. 501: the store has no conditional writes.
   */
  private async putConditionally(key: string, body: Buffer, condition: { IfNoneMatch: string } | { IfMatch: string }): Promise<string | null> {
    try {
      const response = await this.s3.send(new PutObjectCommand({
        Bucket: this.options.bucket, Key: this.options.prefix + key, Body: body, ContentLength: body.byteLength, ...condition,
      }));
      return response.ETag ?? "";
    } catch (err) {
      const status = (err as SdkError).$metadata?.httpStatusCode;
      if (status === 412 || status === 409 || (status === 404 && (err as SdkError).name !== "NoSuchBucket")) return null;
      if (status === 501) throw new ConditionalWritesUnsupportedError(`${this.description} does not implement conditional writes`);
      throw this.translate(err, "PutObject", key);
    }
  }

  async putStream(key: string, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.options.bucket, Key: this.options.prefix + key, Body: body },
      queueSize: 2,
    });
    try {
      await upload.done();
    } catch (err) {
      body.destroy();
      throw this.translate(err, "PutObject", key);
    }
  }

  async get(key: string): Promise<Readable> {
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.options.prefix + key }));
      if (!(response.Body instanceof Readable)) throw new Error("the response has no body stream");
      return response.Body;
    } catch (err) {
      throw this.translate(err, "GetObject", key);
    }
  }

  async *list(prefix: string): AsyncIterable<ReplicaObject> {
    let continuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.s3.send(new ListObjectsV2Command({
          Bucket: this.options.bucket, Prefix: this.options.prefix + prefix, ContinuationToken: continuationToken,
        }));
      } catch (err) {
        throw this.translate(err, "ListObjectsV2", prefix);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(this.options.prefix)) continue;
        yield {
          key: object.Key.slice(this.options.prefix.length),
          size: object.Size ?? 0,
          lastModified: object.LastModified ?? new Date(0),
        };
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      let response;
      try {
        response = await this.s3.send(new DeleteObjectsCommand({
          Bucket: this.options.bucket,
          Delete: { Objects: batch.map((key) => ({ Key: this.options.prefix + key })), Quiet: true },
        }));
      } catch (err) {
        throw this.translate(err, "DeleteObjects", batch[0]!);
      }
      const failed = (response.Errors ?? []).filter((e) => e.Code !== "NoSuchKey");
      if (failed.length > 0) {
        const first = failed[0]!;
        throw new Error(`S3 could not delete ${failed.length} object(s) in ${this.description}, first ${first.Key}: ${first.Code} ${first.Message ?? ""}`.trim());
      }
    }
  }

  /**
   * The credentials are valid but may not do `operation`: name the action to add, and where.
   * A GET of a missing key (the lease's first read, on a replica no one wrote yet) is a 403
   * rather than a 404 when the credentials lack s3:ListBucket, so a denied GET names both.
   */
  private permissionError(operation: string, key: string, err: unknown): Error {
    const bucketArn = `arn:aws:s3:::${this.options.bucket}`;
    const objectsArn = `${bucketArn}/${this.options.prefix}*`;
    const action = IAM_ACTIONS[operation] ?? `s3:${operation}`;
    const grant = operation === "ListObjectsV2"
      ? `allow s3:ListBucket on ${bucketArn}`
      : operation === "GetObject"
        ? `allow s3:GetObject on ${objectsArn} and s3:ListBucket on ${bucketArn} (without s3:ListBucket, S3 answers a GET of a missing key with 403 instead of 404)`
        : `allow ${action} on ${objectsArn}`;
    return new Error(
      `S3 denied ${operation} of ${key || "/"} in ${this.description} (AccessDenied): the credentials from ${this.options.credentialsSource} lack a permission: ${grant}`,
      { cause: err },
    );
  }

  /** A clear error for an SDK failure of `operation` on `key` (a key or prefix, relative to the replica). */
  private translate(err: unknown, operation: string, key: string): Error {
    const e = (err ?? {}) as SdkError;
    const name = e.name ?? "";
    const code = e.code ?? "";
    const where = this.description;
    if (operation === "GetObject" && (name === "NoSuchKey" || (name === "NotFound" && e.$metadata?.httpStatusCode === 404))) {
      return new ReplicaObjectNotFoundError(key, where);
    }
    if (name === "NoSuchBucket") {
      return new Error(`S3 bucket "${this.options.bucket}" does not exist (replica ${where})`, { cause: err });
    }
    if (name === "AccessDenied" || (name === "Forbidden" && e.$metadata?.httpStatusCode === 403)) return this.permissionError(operation, key, err);
    if (CREDENTIAL_ERRORS.has(name)) {
      return new Error(`S3 rejected the credentials (${name}) for ${operation} in ${where}: check ${this.options.credentialsSource}`, { cause: err });
    }
    if (name === "CredentialsProviderError") {
      return new Error(
        `no S3 credentials for ${where}: set LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY, or configure the AWS credential chain`,
        { cause: err },
      );
    }
    if (NETWORK_ERRORS.has(code) || name === "TimeoutError") {
      const endpoint = this.options.endpoint ?? `the AWS S3 endpoint for region ${this.options.region ?? "(looked up)"}`;
      return new Error(`cannot reach S3 endpoint ${endpoint} (${code || name}: ${e.message ?? ""}) for ${where}`, { cause: err });
    }
    return new Error(`S3 ${operation} of ${key || "/"} failed in ${where}: ${name || code || "error"}: ${e.message ?? String(err)}`, { cause: err });
  }
}
