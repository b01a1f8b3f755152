// Replication lag: the age of the oldest commit the replica does not hold yet, counting
// the commits a sync in flight is uploading until its upload succeeds.

export class LagClock {
  /** The oldest commit no sync has taken up yet. */
  private unshippedSince: number | null = null;
  /** The oldest commit the sync in flight is shipping. */
  private shippingSince: number | null = null;

  committed(now = Date.now()): void {
    this.unshippedSince ??= now;
  }

  /** A sync takes up every commit so far; returns the oldest, for stillUnshipped. */
  startShipping(): number | null {
    const since = this.unshippedSince;
    this.unshippedSince = null;
    this.shippingSince = since;
    return since;
  }

  /** The sync shipped what it took up. */
  shipped(): void {
    this.shippingSince = null;
  }

  /** The sync failed, or did not ship all it took up: commits from `since` on count again. */
  stillUnshipped(since: number | null, now = Date.now()): void {
    this.unshippedSince = Math.min(since ?? now, this.unshippedSince ?? now);
    this.shippingSince = null;
  }

  seconds(now = Date.now()): number {
    const oldest = Math.min(this.unshippedSince ?? Infinity, this.shippingSince ?? Infinity);
    return oldest === Infinity ? 0 : (now - oldest) / 1000;
  }
}
