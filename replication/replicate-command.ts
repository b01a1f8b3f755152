// `litepaste replicate [flags] DB_PATH URL`: the replicator alone, for a database that
// another program writes (Litestream's `replicate`, for one database).
//
// Nothing calls notifyCommit here: every sync interval a cheap fs.stat of `-wal` notices
// the other program's writes. Its checkpoints are kept in check the way Litestream does
// it: the replicator holds a read transaction at all times (renewed only around its own
// checkpoints), so no other connection can restart the WAL behind its back, and a WAL
// header it did not expect still starts a new generation rather than shipping a gap.

import { existsSync } from "node:fs";
import pino from "pino";
import { REPLICATION_DEFAULTS, type ReplicationConfig } from "./config.js";
import { formatDuration, parseDuration } from "../internal/duration.js";
import { openReplicaClient } from "./replica/url.js";
import { prepareReplicator } from "./startup.js";

export interface ReplicateIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
}

const USAGE = `Usage: litepaste replicate [flags] DB_PATH URL

Replicates the SQLite database at DB_PATH, written by another program, to the replica at
URL (s3://bucket/path?endpoint=…, file:///dir or a directory) in Litestream's v0.3
layout, until SIGINT or SIGTERM; then ships what is pending and exits.

Flags:
  -sync-interval DURATION      ship new writes this often (default ${formatDuration(REPLICATION_DEFAULTS.syncIntervalMs)})
  -snapshot-interval DURATION  take a snapshot this often (default ${formatDuration(REPLICATION_DEFAULTS.snapshotIntervalMs)})
  -retention DURATION          keep snapshots and WAL this long (default ${formatDuration(REPLICATION_DEFAULTS.retentionMs)})
  -lease-ttl DURATION          the replica lease (one writer per replica) lasts this long unrenewed (default ${formatDuration(REPLICATION_DEFAULTS.leaseTtlMs)})

Durations are Go-style: 500ms, 10s, 5m, 24h.
`;

class UsageError extends Error {}

interface ReplicateArgs {
  readonly dbPath: string;
  readonly url: string;
  readonly syncIntervalMs: number;
  readonly snapshotIntervalMs: number;
  readonly retentionMs: number;
  readonly leaseTtlMs: number;
}

const DURATION_FLAGS = {
  "sync-interval": "syncIntervalMs",
  "snapshot-interval": "snapshotIntervalMs",
  retention: "retentionMs",
  "lease-ttl": "leaseTtlMs",
} as const;

function parseArgs(args: readonly string[]): ReplicateArgs | "help" {
  const durations: Record<(typeof DURATION_FLAGS)[keyof typeof DURATION_FLAGS], number> = {
    syncIntervalMs: REPLICATION_DEFAULTS.syncIntervalMs,
    snapshotIntervalMs: REPLICATION_DEFAULTS.snapshotIntervalMs,
    retentionMs: REPLICATION_DEFAULTS.retentionMs,
    leaseTtlMs: REPLICATION_DEFAULTS.leaseTtlMs,
  };
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const flag = /^--?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!flag) {
      positional.push(arg);
      continue;
    }
    const name = flag[1]!;
    if (name === "h" || name === "help") return "help";
    if (!(name in DURATION_FLAGS)) throw new UsageError(`unknown flag -${name}`);
    const value = flag[2] ?? args[++i];
    if (value === undefined) throw new UsageError(`-${name} needs a duration, such as 1s`);
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch (err) {
      throw new UsageError(`-${name}: ${(err as Error).message}`);
    }
    if (ms <= 0) throw new UsageError(`-${name} must be more than 0`);
    durations[DURATION_FLAGS[name as keyof typeof DURATION_FLAGS]] = ms;
  }
  if (positional.length !== 2) throw new UsageError(`expected DB_PATH and URL, got ${positional.length} argument(s)`);
  return { dbPath: positional[0]!, url: positional[1]!, ...durations };
}

/** Runs until SIGINT/SIGTERM (or `stop` aborts); 0 once everything pending was shipped. */
export async function runReplicate(args: string[], io: ReplicateIo, stop?: AbortSignal): Promise<number> {
  let parsed: ReplicateArgs | "help";
  try {
    parsed = parseArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`litepaste replicate: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === "help") {
    io.stdout.write(USAGE);
    return 0;
  }
  const { dbPath, url } = parsed;
  if (!existsSync(dbPath)) {
    io.stderr.write(`litepaste replicate: ${dbPath} does not exist (the program that writes it creates it)\n`);
    return 1;
  }
  const config: ReplicationConfig = {
    replicaUrl: url,
    syncMode: "async",
    syncIntervalMs: parsed.syncIntervalMs,
    syncTimeoutMs: REPLICATION_DEFAULTS.syncTimeoutMs,
    snapshotIntervalMs: parsed.snapshotIntervalMs,
    retentionMs: parsed.retentionMs,
    leaseTtlMs: parsed.leaseTtlMs,
  };
  const logger = pino({ level: "info", base: { app: "litepaste", command: "replicate" } }, io.stderr);
  let replicator;
  try {
    const client = openReplicaClient(url, io.env, { onWarning: (message) => logger.warn(message) });
    const prepared = await prepareReplicator(dbPath, config, logger, client, { pinWal: true });
    replicator = prepared.start();
  } catch (err) {
    io.stderr.write(`litepaste replicate: ${(err as Error).message}\n`);
    return 1;
  }
  logger.info({ db: dbPath, replica: replicator.status().target }, "replicating");

  await new Promise<void>((resolve) => {
    const done = () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      stop?.removeEventListener("abort", done);
      resolve();
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
    stop?.addEventListener("abort", done);
    if (stop?.aborted) done();
  });
  await replicator.stop(() => {});
  const { lastError } = replicator.status();
  if (lastError !== null) {
    logger.error({ err: lastError }, "stopped with writes not replicated");
    return 1;
  }
  logger.info("stopped; everything was replicated");
  return 0;
}
