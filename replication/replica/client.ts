import type { Readable } from "node:stream";

/** One object of a replica, keyed relative to the replica's root path. */
export interface ReplicaObject {
  /** e.g. `generations/0123456789abcdef/wal/00000000_00000000.wal.lz4` */
  readonly key: string;
  readonly size: number;
  /** S3 LastModified, or the file's mtime: what point-in-time restore goes by. */
  readonly lastModified: Date;
}

/** Raised by `get` when the object does not exist; the message names the key. */
export class ReplicaObjectNotFoundError extends Error {
  override name = "ReplicaObjectNotFoundError";
  constructor(readonly key: string, readonly where: string) {
    super(`replica object not found: ${key} (in ${where})`);
  }
}

/** A small object read together with its version, for compare-and-swap. */
export interface VersionedObject {
  readonly body: Buffer;
  /** Opaque: changes whenever the object is written. */
  readonly etag: string;
}

/** The store refused a conditional request outright (it does not implement the headers). */
export class ConditionalWritesUnsupportedError extends Error {
  override name = "ConditionalWritesUnsupportedError";
}

/**
 * The few operations replication needs from a replica store. Implemented for S3 (and
 * every S3-compatible store) and for a local directory. Keys always use `/`.
 */
export interface ReplicaClient {
  /** The replica's URL with any credentials removed: safe to log and to show in /healthz. */
  readonly description: string;
  /** Writes a whole object (segments: small, of known length). */
  put(key: string, body: Buffer): Promise<void>;
  /** Writes an object from a stream of unknown length (snapshots: multipart upload on S3). */
  putStream(key: string, body: Readable): Promise<void>;
  /** Reads an object; rejects with ReplicaObjectNotFoundError when it is missing. */
  get(key: string): Promise<Readable>;
  /** Every object whose key starts with `prefix`, in no particular order. */
  list(prefix: string): AsyncIterable<ReplicaObject>;
  /** Deletes objects; missing ones are not an error. */
  delete(keys: readonly string[]): Promise<void>;
}

/**
 * A replica client that also has conditional writes (etags, create-if-absent,
 * compare-and-swap): what the replica lease needs (../writer/lease.ts), and only it.
 */
export interface ConditionalReplicaClient extends ReplicaClient {
  /** Reads a small object and its etag; null when it is missing. */
  getVersioned(key: string): Promise<VersionedObject | null>;
  /**
   * Creates `key` only if it does not exist: the new etag, or null when it exists. A store
   * that ignores the condition overwrites instead: probe it first (../writer/lease.ts).
   */
  putIfAbsent(key: string, body: Buffer): Promise<string | null>;
  /** Replaces `key` only if its etag is still `etag`: the new etag, or null when it changed or is gone. */
  putIfMatch(key: string, body: Buffer, etag: string): Promise<string | null>;
}
