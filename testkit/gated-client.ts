// A ReplicaClient decorator whose uploads (WAL segments and snapshots) can be held back or
// refused, as an unreachable store refuses them (a real client underneath: nothing else is
// faked), to look at replication while an upload is in flight or failing. The lease's small
// conditional writes pass through.

import type { Readable } from "node:stream";
import type { ConditionalReplicaClient, ReplicaObject, VersionedObject } from "../replication/replica/client.js";

export class GatedReplicaClient implements ConditionalReplicaClient {
  private gate: Promise<void> | null = null;
  private open: () => void = () => {};
  private refusal: Error | null = null;
  /** Uploads waiting at the gate. */
  waiting = 0;
  /** Uploads refused so far. */
  refused = 0;

  constructor(private readonly inner: ConditionalReplicaClient) {}

  get description(): string {
    return this.inner.description;
  }

  /** Uploads from now on wait until release(). */
  hold(): void {
    this.gate ??= new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open();
    this.gate = null;
  }

  /** Uploads fail with `err` from now on, until refuse(null). */
  refuse(err: Error | null): void {
    this.refusal = err;
  }

  private async pass(): Promise<void> {
    if (this.refusal) {
      this.refused++;
      throw this.refusal;
    }
    if (!this.gate) return;
    this.waiting++;
    await this.gate;
    this.waiting--;
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.pass();
    return this.inner.put(key, body);
  }

  async putStream(key: string, body: Readable): Promise<void> {
    await this.pass();
    return this.inner.putStream(key, body);
  }

  get(key: string): Promise<Readable> {
    return this.inner.get(key);
  }

  list(prefix: string): AsyncIterable<ReplicaObject> {
    return this.inner.list(prefix);
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.inner.delete(keys);
  }

  getVersioned(key: string): Promise<VersionedObject | null> {
    return this.inner.getVersioned(key);
  }

  putIfAbsent(key: string, body: Buffer): Promise<string | null> {
    return this.inner.putIfAbsent(key, body);
  }

  putIfMatch(key: string, body: Buffer, etag: string): Promise<string | null> {
    return this.inner.putIfMatch(key, body, etag);
  }
}
