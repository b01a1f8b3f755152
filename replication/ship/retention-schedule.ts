// When the replicator enforces retention (../retention.ts): at most once per check
// interval, and only after something was uploaded since the last check, so that an idle
// replica gets no requests at all. A new generation is checked at once (its predecessor's
// objects may now be past retention).

export const DEFAULT_RETENTION_CHECK_INTERVAL_MS = 3_600_000;

export class RetentionSchedule {
  private nextAt = 0;
  private uploadedSinceCheck = false;

  constructor(private readonly checkIntervalMs: number = DEFAULT_RETENTION_CHECK_INTERVAL_MS) {}

  uploaded(): void {
    this.uploadedSinceCheck = true;
  }

  newGeneration(): void {
    this.nextAt = 0;
    this.uploadedSinceCheck = true;
  }

  /** True when a check is due now; it is then counted as started. */
  take(now = Date.now()): boolean {
    if (!this.uploadedSinceCheck || now < this.nextAt) return false;
    this.nextAt = now + this.checkIntervalMs;
    this.uploadedSinceCheck = false;
    return true;
  }

  /** The check failed: it is due again at the next interval even if nothing is uploaded. */
  failed(): void {
    this.uploadedSinceCheck = true;
  }
}
