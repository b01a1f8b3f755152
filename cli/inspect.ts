// `litepaste snapshots|generations|wal URL`: what a replica holds, in the tables Litestream
// v0.3 prints — its columns and formats (index and offset as %08x, times as RFC 3339 in
// UTC), aligned as Go's tabwriter aligns them (two spaces between columns, the last column
// unpadded).

import { summarizeReplica, type ReplicaSummary } from "../replication/replica/summary.js";
import type { Command } from "./command.js";
import { openReplicaArg, parseGeneration, URL_HELP } from "./replica-arg.js";

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

export const snapshotsCommand: Command = {
  flags: {},
  usage: `Usage: litepaste snapshots URL

Lists the replica's snapshots, newest first.

${URL_HELP}`,
  async run(flags, io) {
    const { client, replicaType } = openReplicaArg("snapshots", flags.positional, io);
    io.stdout.write(snapshotsTable(await summarizeReplica(client), replicaType));
    return 0;
  },
};

export const generationsCommand: Command = {
  flags: {},
  usage: `Usage: litepaste generations URL

Lists the replica's generations and the time range each covers.

${URL_HELP}`,
  async run(flags, io) {
    const { client, replicaType } = openReplicaArg("generations", flags.positional, io);
    io.stdout.write(generationsTable(await summarizeReplica(client), replicaType));
    return 0;
  },
};

export const walCommand: Command = {
  flags: { generation: "string" },
  usage: `Usage: litepaste wal [flags] URL

Lists the replica's WAL segments, newest first.

Flags:
  -generation NAME   only this generation

${URL_HELP}`,
  async run(flags, io) {
    const { client, replicaType } = openReplicaArg("wal", flags.positional, io);
    const generation = parseGeneration(flags.strings.get("generation"));
    io.stdout.write(walTable(await summarizeReplica(client), replicaType, generation));
    return 0;
  },
};
