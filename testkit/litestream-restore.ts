// Litestream v0.3's restore algorithm, done by hand with the `lz4` and `sqlite3` command-line
// tools — an oracle that shares no code with litepaste's restore. For the chosen generation,
// from its snapshot's index on: `lz4 -d` the snapshot into `db`; per index, `lz4 -d` and
// concatenate the index's segments (ordered by offset) into `db-wal`, then
// `sqlite3 db 'PRAGMA wal_checkpoint(TRUNCATE)'`; repeat for the next index.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { parseReplicaKey } from "../replication/replica/layout.js";
import type { ReplicaClient, ReplicaObject } from "../replication/replica/client.js";

async function download(client: ReplicaClient, key: string, file: string): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of await client.get(key)) chunks.push(chunk as Buffer);
  fs.writeFileSync(file, Buffer.concat(chunks));
}

function lz4Decompress(input: string, output: string): void {
  execFileSync("lz4", ["-d", "-f", "-q", input, output], { stdio: ["ignore", "ignore", "pipe"] });
}

export interface ManualRestoreResult {
  readonly generation: string;
  readonly snapshotIndex: number;
  /** The last WAL index applied (the snapshot's when there was none). */
  readonly lastIndex: number;
}

/** Restores into `outputPath` (which must not exist); the newest generation unless one is named. */
export async function restoreLikeLitestream(
  client: ReplicaClient,
  outputPath: string,
  target: { generation?: string; index?: number } = {},
): Promise<ManualRestoreResult> {
  const objects: Array<ReplicaObject & { parsed: NonNullable<ReturnType<typeof parseReplicaKey>> }> = [];
  for await (const object of client.list("generations/")) {
    const parsed = parseReplicaKey(object.key);
    if (parsed) objects.push({ ...object, parsed });
  }
  let generation = target.generation;
  if (generation === undefined) {
    const newest = new Map<string, number>();
    for (const o of objects) newest.set(o.parsed.generation, Math.max(newest.get(o.parsed.generation) ?? 0, o.lastModified.getTime()));
    generation = [...newest].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).at(-1)?.[0];
    if (generation === undefined) throw new Error("the replica is empty");
  }
  const mine = objects.filter((o) => o.parsed.generation === generation);
  const limit = target.index ?? Infinity;
  const snapshot = mine
    .filter((o) => o.parsed.kind === "snapshot" && o.parsed.index <= limit)
    .sort((a, b) => a.parsed.index - b.parsed.index)
    .at(-1);
  if (!snapshot) throw new Error(`generation ${generation} has no snapshot at or below index ${limit}`);

  const work = `${outputPath}.manual-restore`;
  fs.mkdirSync(work);
  try {
    await download(client, snapshot.key, `${work}/snapshot.lz4`);
    lz4Decompress(`${work}/snapshot.lz4`, outputPath);
    const segments = mine.filter((o) => o.parsed.kind === "wal" && o.parsed.index >= snapshot.parsed.index && o.parsed.index <= limit);
    const indexes = [...new Set(segments.map((o) => o.parsed.index))].sort((a, b) => a - b);
    let lastIndex = snapshot.parsed.index;
    for (const [i, index] of indexes.entries()) {
      if (index !== snapshot.parsed.index + i) throw new Error(`WAL index ${snapshot.parsed.index + i} is missing in generation ${generation}`);
      const round = segments
        .filter((o) => o.parsed.index === index)
        .map((o) => ({ key: o.key, offset: o.parsed.kind === "wal" ? o.parsed.offset : -1 }))
        .sort((a, b) => a.offset - b.offset);
      const parts: Buffer[] = [];
      let expected = 0;
      for (const [n, segment] of round.entries()) {
        if (segment.offset !== expected) throw new Error(`${segment.key}: expected offset ${expected}`);
        await download(client, segment.key, `${work}/${n}.lz4`);
        lz4Decompress(`${work}/${n}.lz4`, `${work}/${n}.wal`);
        const part = fs.readFileSync(`${work}/${n}.wal`);
        parts.push(part);
        expected += part.length;
      }
      fs.writeFileSync(`${outputPath}-wal`, Buffer.concat(parts));
      execFileSync("sqlite3", [outputPath, "PRAGMA wal_checkpoint(TRUNCATE)"], { stdio: ["ignore", "pipe", "pipe"] });
      lastIndex = index;
    }
    fs.rmSync(`${outputPath}-wal`, { force: true });
    fs.rmSync(`${outputPath}-shm`, { force: true });
    return { generation, snapshotIndex: snapshot.parsed.index, lastIndex };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
