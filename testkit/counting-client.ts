// A ReplicaClient decorator that counts the requests made through it (a real client
// underneath: nothing is faked), to check what replication costs on S3.

import type { Readable } from "node:stream";
import type { ConditionalReplicaClient, ReplicaObject, VersionedObject } from "../replication/replica/client.js";

export type ReplicaOperation = "put" | "putStream" | "get" | "list" | "delete" | "getVersioned" | "putIfAbsent" | "putIfMatch";

export class CountingReplicaClient implements ConditionalReplicaClient {
  readonly counts: Record<ReplicaOperation, number> = {
    put: 0, putStream: 0, get: 0, list: 0, delete: 0, getVersioned: 0, putIfAbsent: 0, putIfMatch: 0,
  };
  /** Keys written, in order. */
  readonly written: string[] = [];

  constructor(private readonly inner: ConditionalReplicaClient) {}

  get description(): string {
    return this.inner.description;
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  put(key: string, body: Buffer): Promise<void> {
    this.counts.put++;
    this.written.push(key);
    return this.inner.put(key, body);
  }

  putStream(key: string, body: Readable): Promise<void> {
    this.counts.putStream++;
    this.written.push(key);
    return this.inner.putStream(key, body);
  }

  get(key: string): Promise<Readable> {
    this.counts.get++;
    return this.inner.get(key);
  }

  list(prefix: string): AsyncIterable<ReplicaObject> {
    this.counts.list++;
    return this.inner.list(prefix);
  }

  delete(keys: readonly string[]): Promise<void> {
    this.counts.delete++;
    return this.inner.delete(keys);
  }

  getVersioned(key: string): Promise<VersionedObject | null> {
    this.counts.getVersioned++;
    return this.inner.getVersioned(key);
  }

  putIfAbsent(key: string, body: Buffer): Promise<string | null> {
    this.counts.putIfAbsent++;
    this.written.push(key);
    return this.inner.putIfAbsent(key, body);
  }

  putIfMatch(key: string, body: Buffer, etag: string): Promise<string | null> {
    this.counts.putIfMatch++;
    this.written.push(key);
    return this.inner.putIfMatch(key, body, etag);
  }
}
