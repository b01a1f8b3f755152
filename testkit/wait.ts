// Waiting in tests for something a process does in the background. A wait ends when its
// condition holds; its deadline only catches a hang, so it is minutes long: a loaded
// two-core machine must never miss it (speed is measured in bench/, not asserted here).

import { setTimeout as sleep } from "node:timers/promises";

/** How long a test waits for anything before it calls it a hang. */
export const HANG_TIMEOUT_MS = 180_000;

/**
 * Polls `check` every `pollMs` until it returns something other than undefined or false,
 * and returns that; throws naming `what` (and `detail()`, e.g. a server's log) on a hang.
 */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { pollMs?: number; timeoutMs?: number; detail?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? HANG_TIMEOUT_MS);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(`no progress: still waiting for ${what} after ${(options.timeoutMs ?? HANG_TIMEOUT_MS) / 1000} s${options.detail ? `\n${options.detail()}` : ""}`);
    }
    await sleep(options.pollMs ?? 10);
  }
}

/** `promise`, or a rejection naming `what` if it has not settled after HANG_TIMEOUT_MS. */
export async function withHangTimeout<T>(what: string, promise: Promise<T>, timeoutMs = HANG_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no progress: still waiting for ${what} after ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}
