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
import { UsageError } from "../internal/usage-error.js";
import { REPLICATION_DEFAULTS, type ReplicationConfig } from "../replication/config.js";
import { openReplicaClient } from "../replication/replica/url.js";
import { prepareReplicator } from "../replication/startup.js";
import { parseSetting, SETTINGS } from "../server/config.js";
import type { Command, CommandIo } from "./command.js";

/** Its flags and the server's settings they set: one definition, so one default and one minimum for both. */
const DURATION_FLAGS = {
  "sync-interval": "syncInterval",
  "snapshot-interval": "snapshotInterval",
  retention: "retention",
  "lease-ttl": "leaseTtl",
} as const;

const USAGE = `Usage: litepaste replicate [flags] DB_PATH URL

Replicates the SQLite database at DB_PATH, written by another program, to the replica at
URL (s3://bucket/path?endpoint=…, file:///dir or a directory) in Litestream's v0.3
layout, until SIGINT or SIGTERM; then ships what is pending and exits.

Flags:
  -sync-interval DURATION      ship new writes this often (default ${SETTINGS.syncInterval.defaultText})
  -snapshot-interval DURATION  take a snapshot this often (default ${SETTINGS.snapshotInterval.defaultText})
  -retention DURATION          keep snapshots and WAL this long (default ${SETTINGS.retention.defaultText})
  -lease-ttl DURATION          the replica lease (one writer per replica) lasts this long unrenewed (default ${SETTINGS.leaseTtl.defaultText})

Durations are Go-style: 500ms, 10s, 5m, 24h.
`;

/** A flag's value, or the setting's default, by the server's rules for that setting. */
function duration(flags: ReadonlyMap<string, string>, flag: keyof typeof DURATION_FLAGS): number {
  const key = DURATION_FLAGS[flag];
  return parseSetting(key, flags.get(flag) ?? SETTINGS[key].defaultText, `-${flag}`);
}

export const replicateCommand: Command = {
  flags: Object.fromEntries(Object.keys(DURATION_FLAGS).map((flag) => [flag, "string" as const])),
  usage: USAGE,
  run: (flags, io) => {
    if (flags.positional.length !== 2) {
      const hint = flags.positional.length > 2 ? " (flags go before DB_PATH)" : "";
      throw new UsageError(`expected DB_PATH and URL, got ${flags.positional.length} argument(s)${hint}`);
    }
    const [dbPath, url] = flags.positional as [string, string];
    return replicate(dbPath, {
      replicaUrl: url,
      syncMode: "async",
      syncIntervalMs: duration(flags.strings, "sync-interval"),
      syncTimeoutMs: REPLICATION_DEFAULTS.syncTimeoutMs,
      snapshotIntervalMs: duration(flags.strings, "snapshot-interval"),
      retentionMs: duration(flags.strings, "retention"),
      leaseTtlMs: duration(flags.strings, "lease-ttl"),
    }, io);
  },
};

/** Runs until SIGINT/SIGTERM; 0 once everything pending was shipped. */
async function replicate(dbPath: string, config: ReplicationConfig, io: CommandIo): Promise<number> {
  if (!existsSync(dbPath)) throw new Error(`${dbPath} does not exist (the program that writes it creates it)`);
  const logger = pino({ level: "info", base: { app: "litepaste", command: "replicate" } }, io.stderr);
  const client = openReplicaClient(config.replicaUrl, io.env, { onWarning: (message) => logger.warn(message) });
  const prepared = await prepareReplicator(dbPath, config, logger, client, { pinWal: true });
  const replicator = prepared.start();
  logger.info({ db: dbPath, replica: replicator.status().target }, "replicating");

  await new Promise<void>((resolve) => {
    const done = () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
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
