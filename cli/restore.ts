// `litepaste restore [flags] URL`: Litestream's restore, with its flags and messages, from a
// replica given by URL.

import fs from "node:fs";
import { UsageError } from "../internal/usage-error.js";
import { NoReplicaError, restoreReplica, type RestoreProgress } from "../replication/restore.js";
import type { Command } from "./command.js";
import { openReplicaArg, parseGeneration, URL_HELP } from "./replica-arg.js";

export const DEFAULT_RESTORE_OUTPUT = "data/store.db";
const PROGRESS_INTERVAL_MS = 200;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function parseIndex(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const digits = value.replace(/^0[xX]/, "");
  if (!/^[0-9a-fA-F]{1,13}$/.test(digits)) throw new UsageError(`invalid -index "${value}": expected a hex WAL index, such as 0000001a`);
  return parseInt(digits, 16);
}

function parseTimestamp(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (!RFC3339.test(value) || Number.isNaN(time)) {
    throw new UsageError(`invalid -timestamp "${value}": expected an RFC 3339 time, such as 2024-05-01T12:00:00Z`);
  }
  return new Date(time);
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** One status line on the terminal, rewritten a few times a second at most. */
class ProgressLine {
  private lastWrite = 0;
  private shown = false;

  constructor(private readonly stderr: NodeJS.WritableStream) {}

  update(p: RestoreProgress): void {
    const now = Date.now();
    if (now - this.lastWrite < PROGRESS_INTERVAL_MS && p.segments < p.totalSegments) return;
    this.lastWrite = now;
    this.shown = true;
    this.stderr.write(`\r\x1b[Krestoring: ${formatBytes(p.bytes)}, ${p.segments}/${p.totalSegments} WAL segments`);
  }

  end(): void {
    if (this.shown) this.stderr.write("\n");
    this.shown = false;
  }
}

export const restoreCommand: Command = {
  flags: {
    o: "string", generation: "string", index: "string", timestamp: "string",
    "if-db-not-exists": "bool", "if-replica-exists": "bool", "integrity-check": "bool",
  },
  usage: `Usage: litepaste restore [flags] URL

Restores the database from a replica (Litestream v0.3 layout).

Flags:
  -o PATH              output path (default ${DEFAULT_RESTORE_OUTPUT}); must not exist
  -generation NAME     restore this generation (default: the one with the latest data)
  -index NUM           restore up to this hex-encoded WAL index, inclusive
  -timestamp TIME      restore the state as of this RFC 3339 time (e.g. 2024-05-01T12:00:00Z)
  -if-db-not-exists    exit 0 without restoring when the output already exists
  -if-replica-exists   exit 0 without restoring when the replica holds no backup
  -integrity-check     run PRAGMA integrity_check instead of quick_check

${URL_HELP}`,
  async run(flags, io) {
    const { client } = openReplicaArg("restore", flags.positional, io);
    const outputPath = flags.strings.get("o") || DEFAULT_RESTORE_OUTPUT;
    const options = {
      outputPath,
      generation: parseGeneration(flags.strings.get("generation")),
      index: parseIndex(flags.strings.get("index")),
      timestamp: parseTimestamp(flags.strings.get("timestamp")),
      integrityCheck: flags.bools.has("integrity-check"),
    };
    const progress = io.isTTY ? new ProgressLine(io.stderr) : undefined;
    if (flags.bools.has("if-db-not-exists") && fs.existsSync(outputPath)) {
      io.stdout.write("database already exists, skipping\n");
      return 0;
    }
    let result;
    try {
      result = await restoreReplica(client, { ...options, onProgress: progress && ((p) => progress.update(p)) });
    } catch (err) {
      progress?.end();
      if (!(err instanceof NoReplicaError)) throw err;
      if (flags.bools.has("if-replica-exists")) {
        io.stdout.write("no matching backups found, skipping\n");
        return 0;
      }
      throw new Error(`no matching backups found: ${err.message}`, { cause: err });
    }
    progress?.end();
    io.stderr.write(
      `restored ${outputPath} (${result.bytes} bytes) from ${client.description}: ` +
        `generation ${result.generation}, index ${hex8(result.index)}, offset ${hex8(result.offset)}\n`,
    );
    return 0;
  },
};
