// `litepaste restore|snapshots|generations|wal`: Litestream's replica commands, with its
// flags (Go style) and output, for a replica given by URL.

import fs from "node:fs";
import { FlagError, parseGoFlags, type FlagKind } from "./go-flags.js";
import { generationsTable, snapshotsTable, walTable } from "./inspect.js";
import { isGenerationId } from "./replica/layout.js";
import type { ReplicaClient } from "./replica/client.js";
import { summarizeReplica } from "./replica/summary.js";
import { openReplicaClient, parseReplicaUrl, ReplicaUrlError } from "./replica/url.js";
import { NoReplicaError, restoreReplica, type RestoreOptions, type RestoreProgress } from "./restore.js";

export type ReplicaVerb = "restore" | "snapshots" | "generations" | "wal";

export interface ReplicaCommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Whether stderr is a terminal: progress is shown there only then. */
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
}

export const DEFAULT_RESTORE_OUTPUT = "data/store.db";
const PROGRESS_INTERVAL_MS = 200;

const URL_HELP = `URL is s3://bucket/path[?endpoint=URL&region=REGION&forcePathStyle=true], a provider
host as s3://BUCKET.s3.REGION.backblazeb2.com/path, file:///dir or an absolute directory
path (see docs/replication.md). S3 credentials come from LITESTREAM_ACCESS_KEY_ID and
LITESTREAM_SECRET_ACCESS_KEY, else the AWS credential chain; the endpoint and region
from the URL, else LITESTREAM_ENDPOINT / AWS_ENDPOINT_URL_S3 and LITESTREAM_REGION /
AWS_REGION.
`;

const USAGE: Record<ReplicaVerb, string> = {
  restore: `Usage: litepaste restore [flags] URL

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
  snapshots: `Usage: litepaste snapshots URL

Lists the replica's snapshots, newest first.

${URL_HELP}`,
  generations: `Usage: litepaste generations URL

Lists the replica's generations and the time range each covers.

${URL_HELP}`,
  wal: `Usage: litepaste wal [flags] URL

Lists the replica's WAL segments, newest first.

Flags:
  -generation NAME   only this generation

${URL_HELP}`,
};

const FLAGS: Record<ReplicaVerb, Record<string, FlagKind>> = {
  restore: {
    o: "string", generation: "string", index: "string", timestamp: "string",
    "if-db-not-exists": "bool", "if-replica-exists": "bool", "integrity-check": "bool",
  },
  snapshots: {},
  generations: {},
  wal: { generation: "string" },
};

/** A mistake in how the command was called: exit 2 with the usage. */
class UsageError extends Error {}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function parseGeneration(value: string | undefined): string | undefined {
  if (value !== undefined && !isGenerationId(value)) {
    throw new UsageError(`invalid -generation "${value}": expected 16 lowercase hex characters`);
  }
  return value;
}

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

interface Invocation {
  readonly verb: ReplicaVerb;
  readonly client: ReplicaClient;
  /** "s3" or "file": the replica column of the tables. */
  readonly replicaType: string;
  readonly strings: ReadonlyMap<string, string>;
  readonly bools: ReadonlySet<string>;
}

/** Parses and validates the arguments; throws FlagError, ReplicaUrlError or UsageError. */
function parseInvocation(verb: ReplicaVerb, args: readonly string[], io: ReplicaCommandIo): Invocation | "help" {
  const env = io.env;
  const parsed = parseGoFlags(args, FLAGS[verb]);
  if (parsed.help) return "help";
  if (parsed.positional.length === 0 || parsed.positional[0] === "") throw new UsageError("replica URL required");
  if (parsed.positional.length > 1) {
    throw new UsageError(`too many arguments: ${parsed.positional.slice(1).join(" ")} (flags go before the URL)`);
  }
  const url = parsed.positional[0]!;
  const client = openReplicaClient(url, env, { onWarning: (message) => io.stderr.write(`litepaste ${verb}: warning: ${message}\n`) });
  return { verb, client, replicaType: parseReplicaUrl(url, env).kind, strings: parsed.strings, bools: parsed.bools };
}

async function runRestore(inv: Invocation, io: ReplicaCommandIo): Promise<number> {
  const outputPath = inv.strings.get("o") || DEFAULT_RESTORE_OUTPUT;
  const options: RestoreOptions = {
    outputPath,
    generation: parseGeneration(inv.strings.get("generation")),
    index: parseIndex(inv.strings.get("index")),
    timestamp: parseTimestamp(inv.strings.get("timestamp")),
    integrityCheck: inv.bools.has("integrity-check"),
  };
  const progress = io.isTTY ? new ProgressLine(io.stderr) : undefined;
  if (inv.bools.has("if-db-not-exists") && fs.existsSync(outputPath)) {
    io.stdout.write("database already exists, skipping\n");
    return 0;
  }
  let result;
  try {
    result = await restoreReplica(inv.client, { ...options, onProgress: progress && ((p) => progress.update(p)) });
  } catch (err) {
    progress?.end();
    if (!(err instanceof NoReplicaError)) throw err;
    if (inv.bools.has("if-replica-exists")) {
      io.stdout.write("no matching backups found, skipping\n");
      return 0;
    }
    throw new Error(`no matching backups found: ${err.message}`, { cause: err });
  }
  progress?.end();
  io.stderr.write(
    `restored ${outputPath} (${result.bytes} bytes) from ${inv.client.description}: ` +
      `generation ${result.generation}, index ${hex8(result.index)}, offset ${hex8(result.offset)}\n`,
  );
  return 0;
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

async function runListing(inv: Invocation, io: ReplicaCommandIo): Promise<number> {
  const generation = parseGeneration(inv.strings.get("generation"));
  const summary = await summarizeReplica(inv.client);
  const table = inv.verb === "snapshots"
    ? snapshotsTable(summary, inv.replicaType)
    : inv.verb === "generations"
      ? generationsTable(summary, inv.replicaType)
      : walTable(summary, inv.replicaType, generation);
  io.stdout.write(table);
  return 0;
}

/** Runs one replica command; resolves to the process exit code (0 ok, 1 failed, 2 bad usage). */
export async function runReplicaCommand(verb: ReplicaVerb, args: string[], io: ReplicaCommandIo): Promise<number> {
  const usageError = (err: unknown): number | undefined => {
    if (!(err instanceof FlagError || err instanceof ReplicaUrlError || err instanceof UsageError)) return undefined;
    io.stderr.write(`litepaste ${verb}: ${err.message}\n\n${USAGE[verb]}`);
    return 2;
  };
  let invocation;
  try {
    invocation = parseInvocation(verb, args, io);
  } catch (err) {
    const code = usageError(err);
    if (code === undefined) throw err;
    return code;
  }
  if (invocation === "help") {
    io.stdout.write(USAGE[verb]);
    return 0;
  }
  try {
    return verb === "restore" ? await runRestore(invocation, io) : await runListing(invocation, io);
  } catch (err) {
    const code = usageError(err);
    if (code !== undefined) return code;
    io.stderr.write(`litepaste ${verb}: ${(err as Error).message}\n`);
    return 1;
  }
}
