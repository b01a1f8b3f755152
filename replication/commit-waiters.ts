// Callers waiting for their commits to reach the replica (sync mode's acknowledgement).
//
// Every read of `-wal` by a sync gets a number. A commit made before a waiter arrived is in
// `-wal` by then, so any read numbered after the waiter's arrival sees it: the waiter is
// done once such a read was shipped whole. Waiters that arrive during an upload share the
// next one (group commit).

import { formatDuration } from "../internal/duration.js";

/** waitUntilReplicated gave up: the write is committed locally but the replica does not confirm it yet. */
export class ReplicationTimeoutError extends Error {
  override name = "ReplicationTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`the replica did not confirm the write within ${formatDuration(timeoutMs)}`);
  }
}

interface Waiter {
  readonly minReadSeq: number;
  settle(err?: Error): void;
}

export class CommitWaiters {
  private waiters: Waiter[] = [];
  private lastReadSeq = 0;

  constructor(private readonly timeoutMs: number) {}

  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  /** Numbers a read of `-wal` that is about to happen. */
  nextRead(): number {
    return ++this.lastReadSeq;
  }

  /** Resolves once a read that starts after this call was shipped; rejects with ReplicationTimeoutError. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new ReplicationTimeoutError(this.timeoutMs));
      }, this.timeoutMs);
      const waiter: Waiter = {
        minReadSeq: this.lastReadSeq + 1,
        settle: (err) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Everything read by read `readSeq` (and those before it) is in the replica. */
  shipped(readSeq: number): void {
    const done = this.waiters.filter((w) => w.minReadSeq <= readSeq);
    this.waiters = this.waiters.filter((w) => w.minReadSeq > readSeq);
    for (const w of done) w.settle();
  }

  rejectAll(err: Error): void {
    for (const w of this.waiters.splice(0)) w.settle(err);
  }
}
