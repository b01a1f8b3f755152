// One run of "the app plus its replicator" against a real SQLite file, as the server does
// it: prepare before opening the database, start after, notify on every commit, stop with
// the app's close.

import { readdirSync } from "node:fs";
import path from "node:path";
import type Database from "better-sqlite3";
import { REPLICATION_DEFAULTS, type ReplicationConfig } from "../replication/config.js";
import { parseReplicaKey } from "../replication/replica/layout.js";
import type { ConditionalReplicaClient } from "../replication/replica/client.js";
import type { Replicator } from "../replication/replicator.js";
import { prepareReplicator, type ReplicatorTuning } from "../replication/startup.js";
import { openAppDatabase } from "./replication-db.js";
import { testLogger } from "./test-logger.js";
import { HANG_TIMEOUT_MS, until } from "./wait.js";

/** The server's defaults, except: syncs every 40 ms (tests see many), and a snapshot an hour (only the tests that ask get one). */
export const testConfig: ReplicationConfig = {
  ...REPLICATION_DEFAULTS,
  replicaUrl: "(a client is passed in)",
  syncIntervalMs: 40,
  snapshotIntervalMs: 3_600_000,
};

export interface Session {
  readonly restored: boolean;
  readonly app: Database.Database;
  readonly replication: Replicator;
  /** Runs one write statement on the app's connection and tells replication. */
  run(sql: string, ...params: unknown[]): void;
  stop(): Promise<void>;
}

/** Starts a session; `t` stops it when the test ends, if the test did not (a failed assertion must not leave timers running). */
export async function startSession(
  t: { after(fn: () => Promise<void>): void },
  dbPath: string,
  client: ConditionalReplicaClient,
  options: { config?: Partial<ReplicationConfig>; tuning?: ReplicatorTuning } = {},
): Promise<Session> {
  const prepared = await prepareReplicator(dbPath, { ...testConfig, ...options.config }, testLogger(), client, options.tuning);
  const app = openAppDatabase(dbPath, options.config?.syncMode === "sync" ? "FULL" : "NORMAL");
  app.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body BLOB)");
  const replication = prepared.start();
  t.after(() => replication.stop(() => app.close()));
  return {
    restored: prepared.restored,
    app,
    replication,
    run(sql, ...params) {
      app.prepare(sql).run(...params);
      replication.notifyCommit();
    },
    stop: () => replication.stop(() => app.close()),
  };
}

/** The replica's objects by kind, parsed, for a directory replica. */
export function replicaKeys(replicaDir: string): Array<NonNullable<ReturnType<typeof parseReplicaKey>> & { key: string }> {
  const keys: string[] = [];
  const walk = (dir: string, prefix: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(path.join(dir, e.name), `${prefix}${e.name}/`);
      else if (!e.name.startsWith(".")) keys.push(`${prefix}${e.name}`);
    }
  };
  walk(replicaDir, "");
  return keys.flatMap((key) => {
    const parsed = parseReplicaKey(key);
    return parsed ? [{ ...parsed, key }] : [];
  });
}

/** Polls `condition` every few ms until it holds (tests' way to wait for background work); fails only on a hang. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = HANG_TIMEOUT_MS): Promise<void> {
  await until(what, condition, { timeoutMs });
}
