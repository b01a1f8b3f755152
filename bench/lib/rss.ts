// Resident set size of another process, read from outside so the reading costs the
// measured process nothing.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export function rssBytes(pid: number): number {
  const status = `/proc/${pid}/status`;
  if (fs.existsSync(status)) {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(status, "utf8"));
    if (match) return Number(match[1]) * 1024;
  }
  // Not Linux (or the process is a zombie): ps reports kilobytes on Linux and macOS alike.
  const kb = Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim());
  if (!Number.isFinite(kb) || kb <= 0) throw new Error(`cannot read the RSS of process ${pid}`);
  return kb * 1024;
}

/** The largest RSS the process has had so far (Linux's VmHWM); null where /proc does not say. */
export function peakRssBytes(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * The file-backed part of the RSS (Linux's RssFile): the mapped node binary and native
 * modules, shared with other processes; null where /proc does not say.
 */
export function fileBackedBytes(pid: number): number | null {
  try {
    const match = /^RssFile:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export interface RssSample {
  /** Milliseconds since sampling started. */
  readonly ms: number;
  readonly bytes: number;
}

/** Samples every `intervalMs` until `stop()`, which returns the samples. */
export function sampleRss(pid: number, intervalMs: number): { stop(): RssSample[] } {
  const start = Date.now();
  const samples: RssSample[] = [{ ms: 0, bytes: rssBytes(pid) }];
  const timer = setInterval(() => samples.push({ ms: Date.now() - start, bytes: rssBytes(pid) }), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      samples.push({ ms: Date.now() - start, bytes: rssBytes(pid) });
      return samples;
    },
  };
}

/**
 * RSS once it stops moving: V8 frees start-up garbage lazily, so the first readings after
 * start overstate the resting size. Settled = the last `windowMs` of readings within
 * `toleranceBytes` of each other; gives up after `timeoutMs` and returns the last reading.
 */
export const SETTLE_WINDOW_MS = 3000;
export const SETTLE_TOLERANCE_BYTES = 512 * 1024;

export async function settledRss(
  pid: number,
  { windowMs = SETTLE_WINDOW_MS, toleranceBytes = SETTLE_TOLERANCE_BYTES, intervalMs = 250, timeoutMs = 20_000 } = {},
): Promise<{ bytes: number; afterMs: number; settled: boolean }> {
  const start = Date.now();
  const window: RssSample[] = [];
  for (;;) {
    const now = Date.now() - start;
    window.push({ ms: now, bytes: rssBytes(pid) });
    while (window.length > 0 && window[0]!.ms < now - windowMs) window.shift();
    const values = window.map((s) => s.bytes);
    const full = now >= windowMs;
    if (full && Math.max(...values) - Math.min(...values) <= toleranceBytes) {
      return { bytes: values[values.length - 1]!, afterMs: now, settled: true };
    }
    if (now >= timeoutMs) return { bytes: values[values.length - 1]!, afterMs: now, settled: false };
    await sleep(intervalMs);
  }
}
