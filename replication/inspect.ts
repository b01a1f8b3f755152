// The tables `litepaste snapshots|generations|wal` print: Litestream v0.3's columns and
// formats (index and offset as %08x, times as RFC 3339 in UTC), aligned as Go's
// tabwriter aligns them (two spaces between columns, the last column unpadded).

import type { ReplicaSummary } from "./replica/summary.js";

export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  }
  return rows
    .map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]! + 2) : cell)).join(""))
    .map((line) => `${line}\n`)
    .join("");
}

/** Go's time.RFC3339 for a UTC time: whole seconds, "Z". */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

/** Newest first, as Litestream lists them; ties broken by position, newest first too. */
function newestFirst<T extends { lastModified: Date; generation: string; index: number; offset?: number }>(a: T, b: T): number {
  return b.lastModified.getTime() - a.lastModified.getTime()
    || (a.generation < b.generation ? 1 : a.generation > b.generation ? -1 : 0)
    || b.index - a.index
    || (b.offset ?? 0) - (a.offset ?? 0);
}

/** `replica` is the replica's type, as Litestream names URL replicas: "s3" or "file". */
export function snapshotsTable(summary: ReplicaSummary, replica: string): string {
  const snapshots = summary.generations.flatMap((g) => g.snapshots).sort(newestFirst);
  return formatTable([
    ["replica", "generation", "index", "size", "created"],
    ...snapshots.map((s) => [replica, s.generation, hex8(s.index), String(s.size), rfc3339(s.lastModified)]),
  ]);
}

export function walTable(summary: ReplicaSummary, replica: string, generation?: string): string {
  const segments = summary.generations
    .filter((g) => generation === undefined || g.id === generation)
    .flatMap((g) => g.walSegments)
    .sort(newestFirst);
  return formatTable([
    ["replica", "generation", "index", "offset", "size", "created"],
    ...segments.map((w) => [replica, w.generation, hex8(w.index), hex8(w.offset), String(w.size), rfc3339(w.lastModified)]),
  ]);
}

/**
 * Lag is "-": it compares a generation with the local database, and these commands read
 * only the replica (Litestream prints the same for a replica URL).
 */
export function generationsTable(summary: ReplicaSummary, replica: string): string {
  return formatTable([
    ["name", "generation", "lag", "start", "end"],
    ...summary.generations.map((g) => [replica, g.id, "-", rfc3339(g.createdAt), rfc3339(g.updatedAt)]),
  ]);
}
