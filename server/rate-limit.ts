// A per-client budget of N uploads per minute: a token bucket holding at most N tokens,
// refilled continuously at N per minute. A client that waits a minute always has its whole
// budget back; a burst can never exceed N. Memory is bounded: a bucket that has refilled
// completely carries no information and is dropped, and past maxClients the oldest go.

export interface RateLimiter {
  /** Takes one upload from the client's budget; false when the budget is spent. */
  tryTake(client: string, now?: number): boolean;
  readonly size: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

const MINUTE_MS = 60_000;

export function createRateLimiter(perMinute: number, maxClients = 100_000): RateLimiter {
  const buckets = new Map<string, Bucket>();
  const refillPerMs = perMinute / MINUTE_MS;
  let lastSweep = 0;

  function sweep(now: number) {
    // Every bucket older than a minute is full again: forgetting it changes nothing.
    for (const [client, bucket] of buckets) {
      if (now - bucket.updatedAt >= MINUTE_MS) buckets.delete(client);
    }
    lastSweep = now;
  }

  return {
    tryTake(client, now = Date.now()) {
      if (now - lastSweep >= MINUTE_MS) sweep(now);
      let bucket = buckets.get(client);
      if (bucket) {
        bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.updatedAt) * refillPerMs);
        bucket.updatedAt = now;
        // Re-insert so that Map order is least-recently-used first, for eviction.
        buckets.delete(client);
      } else {
        bucket = { tokens: perMinute, updatedAt: now };
        if (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value!);
      }
      buckets.set(client, bucket);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
    get size() {
      return buckets.size;
    },
  };
}
