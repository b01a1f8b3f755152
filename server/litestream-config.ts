// Issue 13: a LogPaste + Litestream deployment's litestream.yml, read as one more layer of
// the settings (server/config.ts decides the precedence: flag > env > this file > default).
// Litestream v0.3 expands the environment into the file's text before it parses the YAML
// (os.ExpandEnv in ReadConfigFile); so do we. What litepaste cannot honour (a second
// database or replica, encryption, its own checkpoint tuning, an unknown key) is refused by
// name: a deployment that silently dropped a setting would not do what its file says.

import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { UsageError } from "../internal/usage-error.js";

/** The settings (keys of server/config.ts's SETTINGS) a litestream.yml can give. */
export type FileSettingKey = "dbPath" | "replicaUrl" | "retention" | "snapshotInterval" | "syncInterval" | "metricsAddr" | "logLevel";

export interface FileSetting {
  readonly text: string;
  /** Where in the file, for messages: "litestream.yml (/etc/litestream.yml) dbs[0].replicas[0].retention". */
  readonly source: string;
}

export interface LitestreamFile {
  readonly settings: ReadonlyMap<FileSettingKey, FileSetting>;
  /** The file's S3 keys, for the replica client's environment (never printed). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | null;
}

/** Litestream's retention check interval, which litepaste's replicator uses too (replication/ship/retention-schedule.ts). */
const RETENTION_CHECK_INTERVAL = "1h";

const TOP_KEYS = ["addr", "dbs", "access-key-id", "secret-access-key", "region", "logging"];
const DB_KEYS = ["path", "replicas"];
const REPLICA_KEYS = [
  "type", "name", "url", "path", "bucket", "region", "endpoint", "force-path-style", "skip-verify",
  "retention", "retention-check-interval", "sync-interval", "snapshot-interval", "access-key-id", "secret-access-key",
];
/** Keys Litestream knows that litepaste refuses, with the reason the message gives. */
const REFUSED: Readonly<Record<string, string>> = {
  exec: "litepaste is the application: run it directly instead of under litestream -exec",
  "meta-path": "litepaste keeps its replication state beside the database",
  "monitor-interval": "litepaste ships on each commit and every sync-interval",
  "checkpoint-interval": "litepaste decides its checkpoints itself",
  "min-checkpoint-page-count": "litepaste decides its checkpoints itself",
  "max-checkpoint-page-count": "litepaste decides its checkpoints itself",
  "validation-interval": "litepaste verifies every frame when it restores instead",
  age: "litepaste does not encrypt replicas (age): an encrypted replica could not be restored by it",
  "account-name": "write an Azure replica as url: abs://ACCOUNT@CONTAINER/PATH, with LITESTREAM_AZURE_ACCOUNT_KEY in the environment",
  "account-key": "put the key in LITESTREAM_AZURE_ACCOUNT_KEY and write the replica as url: abs://ACCOUNT@CONTAINER/PATH",
  host: "write an SFTP replica as url: sftp://USER@HOST/PATH (docs/replication.md, SFTP)",
  user: "write an SFTP replica as url: sftp://USER@HOST/PATH (docs/replication.md, SFTP)",
  password: "write an SFTP replica as url: sftp://USER@HOST/PATH, with its credentials in the environment (docs/replication.md, SFTP)",
  "key-path": "write an SFTP replica as url: sftp://USER@HOST/PATH, with its credentials in the environment (docs/replication.md, SFTP)",
};

/**
 * Go's os.ExpandEnv: `${NAME}` and `$NAME` (letters, digits, `_`) become the variable's value,
 * "" when unset; `$` before anything else stays; a bad `${` is dropped, as Go drops it. Kept
 * by hand because the npm expanders implement shell's `${X:-default}` and escapes, which
 * Litestream does not, and a file must mean here what it meant under Litestream.
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  // Alternatives in Go's order: ${special}, ${name}, an unclosed "${" (dropped), $special, $name.
  return text.replace(/\$(?:\{([*#$@!?0-9-])\}|\{([^}]*)\}|(\{)|([*#$@!?0-9-])|([A-Za-z0-9_]+))/g, (_whole, s1?: string, braced?: string, unclosed?: string, s2?: string, name?: string) => {
    if (unclosed !== undefined) return "";
    const variable = s1 ?? braced ?? s2 ?? name ?? "";
    return variable === "" ? "" : (env[variable] ?? "");
  });
}

type Node = Record<string, unknown>;

function fail(file: string, where: string, problem: string): never {
  throw new UsageError(`litestream.yml (${file}): ${where}${where ? ": " : ""}${problem}`);
}

function mapping(file: string, where: string, value: unknown): Node {
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(file, where, "expected a mapping of keys to values");
  return value as Node;
}

function checkKeys(file: string, where: string, node: Node, accepted: readonly string[]): void {
  for (const key of Object.keys(node)) {
    const at = where ? `${where}.${key}` : key;
    if (Object.hasOwn(REFUSED, key)) fail(file, at, `not supported: ${REFUSED[key]}`);
    if (!accepted.includes(key)) fail(file, at, `unknown key (litepaste reads ${accepted.join(", ")})`);
  }
}

/** A scalar as text ("" when absent or empty after expansion: an unset variable is no setting). */
function scalar(file: string, where: string, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value.trim();
  if (typeof value === "boolean") return String(value);
  fail(file, where, `expected text, got ${Array.isArray(value) ? "a list" : typeof value === "number" ? `the number ${value} (a duration needs its unit, as 24h)` : "a mapping"}`);
}

function list(file: string, where: string, value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(file, where, "expected a list");
  if (value.length > 1) fail(file, where, `not supported: ${value.length} ${what}s; litepaste serves one database with one replica (run one litepaste per database)`);
  return value;
}

/** The replica's fields as one URL, the form every replica setting of litepaste takes (Litestream's field names: docs/replication.md). */
function replicaUrlOf(file: string, where: string, text: (key: string) => string): string {
  const url = text("url");
  const bucket = text("bucket");
  const replicaPath = text("path");
  // LogPaste's file with DB_REPLICA_URL unset: an entry that names no place is no replica.
  if (!url && !bucket && !replicaPath) return "";
  // As Litestream's ReplicaType: the url's scheme, else type, else a file replica (a bucket says s3).
  const scheme = url ? (/^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase() ?? "file") : "";
  const type = scheme || text("type").toLowerCase() || (bucket ? "s3" : "file");
  if (url && (bucket || replicaPath)) fail(file, where, `give either url or ${bucket ? "bucket" : "path"}, not both (as Litestream)`);
  const options = new URLSearchParams();
  for (const [key, option] of [["region", "region"], ["endpoint", "endpoint"], ["force-path-style", "forcePathStyle"], ["skip-verify", "skipVerify"]] as const) {
    if (text(key) !== "") options.set(option, text(key));
  }
  if (type === "s3") {
    if (!url && !bucket) fail(file, where, "an s3 replica needs url, or bucket and path");
    // The fields win over what the url's host says, as in Litestream: the URL parser puts its query first.
    const base = url || `s3://${bucket}/${replicaPath.replace(/^\/+/, "")}`;
    const query = options.toString();
    return query === "" ? base : `${base}${base.includes("?") ? "&" : "?"}${query}`;
  }
  if ([...options.keys()].length > 0) fail(file, where, `region, endpoint, force-path-style and skip-verify are S3 settings, and this replica is ${type}`);
  if (url) return url;
  if (type !== "file") fail(file, `${where}.type`, `a ${type} replica is written as a url (docs/replication.md, "Replica URLs")`);
  if (!replicaPath) fail(file, where, "a file replica needs path (an absolute directory) or url");
  return replicaPath;
}

/** Reads and checks `file`, with the environment expanded into it first (as Litestream does). */
export function readLitestreamConfig(file: string, env: NodeJS.ProcessEnv): LitestreamFile {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read the litestream.yml given by -config or LITESTREAM_CONFIG (${file}): ${(err as Error).message}`);
  }
  const doc = parseDocument(expandEnv(raw, env));
  if (doc.errors.length > 0) fail(file, "", `not valid YAML: ${doc.errors[0]!.message}`);
  const top = mapping(file, "", doc.toJS() ?? {});
  checkKeys(file, "", top, TOP_KEYS);
  const settings = new Map<FileSettingKey, FileSetting>();
  const set = (key: FileSettingKey, where: string, text: string) => {
    if (text !== "") settings.set(key, { text, source: `litestream.yml (${file}) ${where}` });
  };
  set("metricsAddr", "addr", scalar(file, "addr", top.addr));
  if (top.logging !== undefined && top.logging !== null) {
    const logging = mapping(file, "logging", top.logging);
    checkKeys(file, "logging", logging, ["level", "type"]);
    const type = scalar(file, "logging.type", logging.type);
    if (type !== "" && type !== "json") fail(file, "logging.type", `not supported: "${type}"; litepaste logs JSON lines`);
    const level = scalar(file, "logging.level", logging.level).toLowerCase();
    set("logLevel", "logging.level", level === "warning" ? "warn" : level);
  }
  let accessKeyId = scalar(file, "access-key-id", top["access-key-id"]);
  let secretAccessKey = scalar(file, "secret-access-key", top["secret-access-key"]);
  // LogPaste's file has a top-level region: Litestream ignores it (no such field), and so do
  // we; the S3 client reads LITESTREAM_REGION itself.
  scalar(file, "region", top.region);
  const [dbValue] = list(file, "dbs", top.dbs, "database");
  if (dbValue !== undefined) {
    const db = mapping(file, "dbs[0]", dbValue);
    checkKeys(file, "dbs[0]", db, DB_KEYS);
    set("dbPath", "dbs[0].path", scalar(file, "dbs[0].path", db.path));
    const [replicaValue] = list(file, "dbs[0].replicas", db.replicas, "replica");
    if (replicaValue !== undefined) {
      const where = "dbs[0].replicas[0]";
      const replica = mapping(file, where, replicaValue);
      checkKeys(file, where, replica, REPLICA_KEYS);
      const text = (key: string) => scalar(file, `${where}.${key}`, replica[key]);
      const url = replicaUrlOf(file, where, text);
      set("replicaUrl", where, url);
      set("retention", `${where}.retention`, text("retention"));
      set("snapshotInterval", `${where}.snapshot-interval`, text("snapshot-interval"));
      set("syncInterval", `${where}.sync-interval`, text("sync-interval"));
      const check = text("retention-check-interval");
      if (check !== "" && check !== RETENTION_CHECK_INTERVAL) {
        fail(file, `${where}.retention-check-interval`, `not supported: "${check}"; litepaste checks retention every ${RETENTION_CHECK_INTERVAL}, Litestream's default`);
      }
      accessKeyId = text("access-key-id") || accessKeyId;
      secretAccessKey = text("secret-access-key") || secretAccessKey;
    }
  }
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    fail(file, accessKeyId ? "secret-access-key" : "access-key-id", `missing: ${accessKeyId ? "access-key-id" : "secret-access-key"} is set, so both are needed`);
  }
  return { settings, credentials: accessKeyId ? { accessKeyId, secretAccessKey } : null };
}
