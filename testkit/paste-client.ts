// An HTTP client of a running litepaste, as the fault tests use it: uploads that record
// what the server answered and when, /healthz as data, and a random-body generator.

import { until, HANG_TIMEOUT_MS } from "./wait.js";
import { randomBytes } from "./workload.js";

export interface UploadAnswer {
  readonly status: number;
  readonly text: string;
  /** The paste id, on a 200. */
  readonly id: string | undefined;
  readonly retryAfter: string | null;
  /** When the answer arrived (Date.now()). */
  readonly answeredAt: number;
  readonly ms: number;
}

/** PUT `body`; rejects only when no answer came (connection refused or cut). */
export async function upload(url: string, body: Buffer): Promise<UploadAnswer> {
  const started = Date.now();
  const res = await fetch(`${url}/`, { method: "PUT", body });
  const text = await res.text();
  const answeredAt = Date.now();
  const id = res.status === 200 ? (JSON.parse(text) as { id: string }).id : undefined;
  return { status: res.status, text, id, retryAfter: res.headers.get("retry-after"), answeredAt, ms: answeredAt - started };
}

export interface Health {
  readonly httpStatus: number;
  readonly status: string;
  readonly replication: {
    readonly generation: string | null;
    readonly lagSeconds: number;
    readonly healthy: boolean;
    readonly lastError: string | null;
  } | null;
}

export async function health(url: string): Promise<Health> {
  const res = await fetch(`${url}/healthz`);
  const body = (await res.json()) as Omit<Health, "httpStatus">;
  return { httpStatus: res.status, ...body };
}

/** Polls /healthz until `accept` holds; returns that answer. Fails only on a hang. */
export async function waitForHealth(url: string, what: string, accept: (h: Health) => boolean, timeoutMs = HANG_TIMEOUT_MS): Promise<Health> {
  let last: Health | undefined;
  return until(what, async () => {
    last = await health(url);
    return accept(last) && last;
  }, { pollMs: 50, timeoutMs, detail: () => `last /healthz: ${JSON.stringify(last)}` });
}

/**
 * A paste body the server must keep byte for byte: binary (NULs, invalid UTF-8) or text
 * with CRLFs and non-ASCII, from a few bytes to a few hundred KiB. Never blank.
 */
export function randomPasteBody(random: () => number): Buffer {
  const r = random();
  const length = r < 0.5 ? 4 + Math.floor(random() * 200) : r < 0.95 ? 200 + Math.floor(random() * 8000) : 20_000 + Math.floor(random() * 200_000);
  if (random() < 0.5) return randomBytes(random, length);
  const words = ["error", "WARN", "\u00e9t\u00e9", "\u2603", "\r\n", "\t", "0x7f", "\u{1F600}", "line\n", " "];
  const parts = ["log:"];
  for (let size = 4; size < length; ) {
    const word = words[Math.floor(random() * words.length)]!;
    parts.push(word);
    size += word.length;
  }
  return Buffer.from(parts.join(""));
}
