// Retry back-off after failed uploads: the next attempt waits the sync interval, doubled
// after each further failure, up to a ceiling. The error, the count and the time of the
// next attempt make one state, so that they can only change together.

/**
 * The ceiling. Short: in sync mode uploads answer 503 until the next attempt succeeds, so
 * recovery should follow the store's return within seconds; a failed attempt against a
 * store that is down costs little.
 */
export const DEFAULT_RETRY_BACKOFF_MAX_MS = 5_000;

interface Failing {
  readonly error: string;
  /** Failures in a row. */
  readonly failures: number;
  /** No attempt before this (ms since the epoch). */
  readonly retryAt: number;
}

export class RetryBackoff {
  private failing: Failing | null = null;

  constructor(
    private readonly firstDelayMs: number,
    private readonly maxDelayMs: number = DEFAULT_RETRY_BACKOFF_MAX_MS,
  ) {}

  /** The message of the last failure; null once an attempt succeeded. */
  get lastError(): string | null {
    return this.failing?.error ?? null;
  }

  /** When the next attempt may start; 0 when it may start at once. */
  get retryAt(): number {
    return this.failing?.retryAt ?? 0;
  }

  /** Whether an attempt may start now (not while backing off). */
  ready(now = Date.now()): boolean {
    return now >= this.retryAt;
  }

  /** Records a failure; true when it begins a run of failures (the one worth logging). */
  fail(error: string, now = Date.now()): boolean {
    const first = this.failing === null;
    const failures = (this.failing?.failures ?? 0) + 1;
    const delay = Math.min(this.firstDelayMs * 2 ** (failures - 1), this.maxDelayMs);
    this.failing = { error, failures, retryAt: now + delay };
    return first;
  }

  /** Records a success; true when it ends a run of failures (the recovery worth logging). */
  succeed(): boolean {
    const recovered = this.failing !== null;
    this.failing = null;
    return recovered;
  }
}
