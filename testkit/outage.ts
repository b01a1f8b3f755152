// Pieces of the outage tests (test/outage-*.test.ts): a replicated server on s3rver, its
// memory watched once a second, and the final check that a restore equals the primary.

import assert from "node:assert/strict";
import { openSync, readSync, closeSync, statSync } from "node:fs";
import path from "node:path";
import { serveCli, type ServedProcess } from "./litepaste-process.js";
import { rssBytes } from "./process-memory.js";
import { comparePastes, restoreToEmptyDir } from "./replica-check.js";
import { digestDatabase } from "./replication-db.js";
import type { S3rverHandle } from "./s3rver.js";

export const MiB = 1024 * 1024;

export interface ReplicatedServer {
  readonly server: ServedProcess;
  readonly dbPath: string;
  readonly replicaUrl: string;
}

export async function startReplicatedServer(s3: S3rverHandle, dir: string, env: NodeJS.ProcessEnv): Promise<ReplicatedServer> {
  const dbPath = path.join(dir, "data", "store.db");
  const replicaUrl = s3.url(path.basename(dir));
  const server = await serveCli({ ...s3.env, DB_PATH: dbPath, DB_REPLICA_URL: replicaUrl, DB_SYNC_INTERVAL: "200ms", ...env });
  return { server, dbPath, replicaUrl };
}

export interface MemoryWatch {
  /** RSS samples in bytes, one a second. */
  readonly samples: number[];
  max(): number;
  stop(): void;
}

export function watchMemory(pid: number): MemoryWatch {
  const samples = [rssBytes(pid)];
  const timer = setInterval(() => samples.push(rssBytes(pid)), 1000);
  return { samples, max: () => Math.max(...samples), stop: () => clearInterval(timer) };
}

/**
 * The bound the outage tests hold the server to, over the outage and the catch-up after
 * it: under 400 MiB, and at most twice the RSS before the outage plus 128 MiB. Unshipped
 * writes wait in the WAL on disk; what replication holds in memory is counted in segments
 * of at most 16 MiB: in the catch-up a WAL read, the tail held over a checkpoint, their
 * concatenation and its LZ4 frame can be alive at once (~100 MiB), and under a loaded CPU
 * the garbage of the previous segment may not be collected yet. Measured: peaks of
 * 200–220 MiB from ~130 MiB before (the test alone or beside another), 352 MiB once beside
 * two other heavy tests. Whether memory grows with the WAL is checked apart
 * (test/outage-async.test.ts).
 */
export function assertMemoryBounded(before: number, watch: MemoryWatch): void {
  const max = watch.max();
  const mib = (n: number) => `${(n / MiB).toFixed(0)} MiB`;
  assert.ok(max < 400 * MiB, `RSS reached ${mib(max)}`);
  assert.ok(max <= 2 * before + 128 * MiB, `RSS reached ${mib(max)}, more than twice the ${mib(before)} before the outage plus 128 MiB`);
}

/** The WAL's size and its 32-byte header (whose salts change when SQLite starts the WAL over). */
export function walState(dbPath: string): { size: number; header: string } {
  const walPath = `${dbPath}-wal`;
  const fd = openSync(walPath, "r");
  try {
    const header = Buffer.alloc(32);
    readSync(fd, header, 0, 32, 0);
    return { size: statSync(walPath).size, header: header.toString("hex") };
  } finally {
    closeSync(fd);
  }
}

/**
 * Restores the replica into an empty directory: same generation as `generation`, same
 * content as the primary (which must be idle and fully shipped), and every paste in `acknowledged`.
 */
export async function assertRestoreEqualsPrimary(
  s3: S3rverHandle,
  { dbPath, replicaUrl }: ReplicatedServer,
  emptyDir: string,
  generation: string,
  acknowledged: Iterable<readonly [string, Buffer]>,
): Promise<void> {
  const restored = await restoreToEmptyDir(replicaUrl, s3.env, emptyDir);
  assert.equal(restored.generation, generation, "the outage did not start a new generation");
  const pastes = comparePastes(restored.dbPath, acknowledged);
  assert.deepEqual({ missing: pastes.missing, different: pastes.different }, { missing: [], different: [] });
  assert.deepEqual(digestDatabase(restored.dbPath), digestDatabase(dbPath), "the restore equals the primary");
}
