// Paste bodies that look like what the service stores (debug logs), and seeding them.

import { seededRandom } from "../../testkit/workload.js";

const LEVELS = ["DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR"];
const WORDS = ["request", "handler", "cache", "miss", "retry", "upstream", "timeout", "user", "session", "query", "worker", "flush", "queue", "ok"];

/** Exactly `size` bytes of log lines, the same bytes for the same seed. */
export function logText(size: number, seed = 1): Buffer {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const words = Array.from({ length: 4 + Math.floor(random() * 8) }, () => pick(WORDS)).join(" ");
    const hex = Math.floor(random() * 2 ** 32).toString(16).padStart(8, "0");
    const line = `2026-01-01T00:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}.${String(i % 1000).padStart(3, "0")}Z ${pick(LEVELS)} [${hex}] ${words}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, size);
}

/** PUTs `body` and returns the paste id. */
export async function putPaste(baseUrl: string, body: Buffer): Promise<string> {
  const res = await fetch(`${baseUrl}/`, { method: "PUT", body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`PUT answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { id: string }).id;
}

/** GETs a paste and checks it holds `expected` exactly: a benchmark of wrong answers is worthless. */
export async function checkPaste(baseUrl: string, id: string, expected: Buffer): Promise<void> {
  const res = await fetch(`${baseUrl}/${id}`);
  const got = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200 || !got.equals(expected)) {
    throw new Error(`GET /${id} answered ${res.status} with ${got.length} bytes, expected ${expected.length} bytes`);
  }
}

/** The PUT throughput scenarios' request: a 1 KiB paste (ASCII, so the string is the bytes). */
export const PUT_1KIB = { method: "PUT", path: "/", body: logText(1024, 7).toString("latin1") } as const;
