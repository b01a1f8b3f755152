// Every setting of the server, read once at start-up from flags (LogPaste's, Go style)
// and environment variables (LogPaste's current and legacy names), validated into one
// typed Config. Precedence: flag, then environment, then default.

import path from "node:path";
import { DEFAULT_TRUSTED_PROXIES } from "./client-ip.js";
import { REPLICATION_DEFAULTS, type ReplicationConfig } from "../replication/config.js";
import { formatDuration, parseDuration } from "../internal/duration.js";
import { FlagError, parseGoBool, parseGoFlags } from "../replication/go-flags.js";

export interface Config {
  readonly title: string;
  readonly subtitle: string;
  /** Raw HTML, written by the operator. */
  readonly footer: string;
  readonly showDocs: boolean;
  /** Uploads per client IP per minute; 0 turns the limit off. */
  readonly perMinuteLimit: number;
  /** The largest paste accepted, in bytes (`-maxsize` is in MiB). */
  readonly maxPasteBytes: number;
  readonly host: string;
  readonly port: number;
  /** Trust X-Forwarded-For & co. for the client IP and answer POST with https:// URLs. */
  readonly behindProxy: boolean;
  /** Issue 12: how many proxies append the client address (read only when behindProxy). */
  readonly trustedProxies: number;
  readonly dbPath: string;
  readonly logLevel: string;
  /** Where /metrics is served instead of on the main listener; null: on the main listener. */
  readonly metricsAddr: ListenAddress | null;
  /** Null when DB_REPLICA_URL is unset. */
  readonly replication: ReplicationConfig | null;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Parser<T> = (text: string) => T;

interface Setting<T> {
  /** Go-style flag name, for the settings LogPaste has as flags. */
  readonly flag?: string;
  /** Environment variables, first found wins. */
  readonly env: readonly string[];
  readonly defaultText: string;
  readonly help: string;
  /** What a valid value looks like, for error messages. */
  readonly accepts: string;
  readonly parse: Parser<T>;
  readonly bool?: boolean;
}

const text: Parser<string> = (t) => t;

function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  return (t) => {
    if (!/^\d+$/.test(t.trim())) throw new Error();
    const n = Number(t.trim());
    if (n < min || n > max) throw new Error();
    return n;
  };
}

const bool: Parser<boolean> = (t) => {
  const b = parseGoBool(t.trim());
  if (b === undefined) throw new Error();
  return b;
};

function duration(min: number): Parser<number> {
  return (t) => {
    const ms = parseDuration(t);
    if (ms < min) throw new Error();
    return ms;
  };
}

/** Go's listen addresses (Litestream's `addr`): `host:port`, `[ipv6]:port`, or `:port` (no host: HOST's address). */
const listenAddress: Parser<{ host: string | null; port: number } | null> = (t) => {
  if (t === "") return null;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]*)):(\d{1,5})$/.exec(t);
  if (!match || Number(match[3]) > 65535) throw new Error();
  return { host: match[1] ?? (match[2] || null), port: Number(match[3]) };
};

/** The settings, in the order `--help` lists them. */
export const SETTINGS = {
  title: { flag: "title", env: ["SITE_TITLE"], defaultText: "LogPaste", help: "site title: page <title>, heading and footer", accepts: "any text", parse: text },
  subtitle: {
    flag: "subtitle",
    env: ["SITE_SUBTITLE"],
    defaultText: "A minimalist, open-source debug log upload service",
    help: "subtitle under the title",
    accepts: "any text",
    parse: text,
  },
  footer: { flag: "footer", env: ["SITE_FOOTER"], defaultText: "", help: "footer, as raw HTML", accepts: "any HTML", parse: text },
  showDocs: {
    flag: "showdocs",
    env: ["SITE_SHOW_DOCUMENTATION"],
    defaultText: "true",
    help: "show the usage documentation on the home page",
    accepts: "true or false (also 1/0, t/f)",
    parse: bool,
    bool: true,
  },
  perMinuteLimit: {
    flag: "perminutelimit",
    env: ["PER_MINUTE_LIMIT"],
    defaultText: "0",
    help: "uploads (PUT/POST) allowed per client IP per minute; 0 = no limit",
    accepts: "a whole number, 0 or more",
    parse: wholeNumber(0),
  },
  maxSize: { flag: "maxsize", env: [], defaultText: "2", help: "largest paste, in MiB (1 MiB = 1048576 bytes)", accepts: "a whole number of MiB from 1 to 1024", parse: wholeNumber(1, 1024) },
  port: { env: ["PORT"], defaultText: "3001", help: "TCP port to listen on", accepts: "a port number from 0 to 65535", parse: wholeNumber(0, 65535) },
  host: { env: ["HOST"], defaultText: "0.0.0.0", help: "address to listen on", accepts: "an IP address or host name", parse: text },
  behindProxy: {
    env: ["LP_BEHIND_PROXY"],
    defaultText: "",
    help: "set (to anything) when behind a reverse proxy: client IP from X-Forwarded-For/Forwarded/X-Real-IP, https:// links",
    accepts: "any text (non-empty turns it on)",
    parse: (t: string) => t !== "",
  },
  // Issue 12 (rate-limit keys): which X-Forwarded-For / Forwarded entry is the client's.
  trustedProxies: {
    env: ["LP_TRUSTED_PROXIES"],
    defaultText: String(DEFAULT_TRUSTED_PROXIES),
    help: "with LP_BEHIND_PROXY: how many proxies in front of the server append the client address (the client is that many entries from the right)",
    accepts: "a whole number from 1 to 20",
    parse: wholeNumber(1, 20),
  },
  dbPath: { env: ["DB_PATH"], defaultText: "data/store.db", help: "SQLite database file (parent folders are created)", accepts: "a file path", parse: text },
  logLevel: {
    env: ["LOG_LEVEL"],
    defaultText: "info",
    help: "log level",
    accepts: "one of fatal, error, warn, info, debug, trace, silent",
    parse: (t: string) => {
      if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(t)) throw new Error();
      return t;
    },
  },
  metricsAddr: {
    env: ["METRICS_ADDR"],
    defaultText: "",
    help: "serve /metrics on this separate address (as :9090 or 127.0.0.1:9090) instead of on the main port",
    accepts: "host:port, [IPv6]:port or :port, with a port from 0 to 65535",
    parse: listenAddress,
  },
  replicaUrl: {
    env: ["DB_REPLICA_URL"],
    defaultText: "",
    help: "replicate the database here: s3://bucket/path[?endpoint=URL], s3://BUCKET.s3.REGION.backblazeb2.com/path, file:///dir or /dir; unset = no replication",
    accepts: "an s3:// or file:// URL, or an absolute directory path",
    parse: text,
  },
  syncMode: {
    env: ["DB_SYNC_MODE"],
    defaultText: REPLICATION_DEFAULTS.syncMode,
    help: "async: answer uploads on local commit; sync: answer once the replica holds them",
    accepts: "async or sync",
    parse: (t: string) => {
      if (t !== "async" && t !== "sync") throw new Error();
      return t;
    },
  },
  syncInterval: {
    env: ["DB_SYNC_INTERVAL"],
    defaultText: formatDuration(REPLICATION_DEFAULTS.syncIntervalMs),
    help: "how often new WAL frames are shipped to the replica (async mode)",
    accepts: "a duration of 10ms or more, such as 500ms, 1s, 10s",
    parse: duration(10),
  },
  syncTimeout: {
    env: ["DB_SYNC_TIMEOUT"],
    defaultText: formatDuration(REPLICATION_DEFAULTS.syncTimeoutMs),
    help: "sync mode: how long an upload waits for the replica before answering 503",
    accepts: "a duration of 100ms or more, such as 5s, 10s",
    parse: duration(100),
  },
  snapshotInterval: {
    env: ["DB_SNAPSHOT_INTERVAL"],
    defaultText: formatDuration(REPLICATION_DEFAULTS.snapshotIntervalMs),
    help: "how often a full snapshot is uploaded",
    accepts: "a duration of 1s or more, such as 1h, 24h",
    parse: duration(1000),
  },
  retention: {
    env: ["DB_RETENTION"],
    defaultText: formatDuration(REPLICATION_DEFAULTS.retentionMs),
    help: "how long old snapshots and WAL segments are kept in the replica",
    accepts: "a duration of 1s or more, such as 24h, 72h",
    parse: duration(1000),
  },
  leaseTtl: {
    env: ["DB_LEASE_TTL"],
    defaultText: formatDuration(REPLICATION_DEFAULTS.leaseTtlMs),
    help: "how long the replica lease (one writer per replica) lasts unrenewed; another instance waits this long for it",
    accepts: "a duration of 1s or more, such as 30s, 1m",
    parse: duration(1000),
  },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;
type Values = { [K in keyof Settings]: ReturnType<Settings[K]["parse"]> };

const FLAG_SPECS = Object.fromEntries(
  Object.values(SETTINGS as Record<string, Setting<unknown>>)
    .filter((s) => s.flag)
    .map((s) => [s.flag!, s.bool ? ("bool" as const) : ("string" as const)]),
);

/** Reads flags and environment into a Config; throws ConfigError naming the setting and what it accepts. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  let flags;
  try {
    flags = parseGoFlags(argv, FLAG_SPECS);
  } catch (err) {
    if (err instanceof FlagError) throw new ConfigError(`${err.message}\nRun with --help to list the flags.`);
    throw err;
  }
  if (flags.positional.length > 0) {
    throw new ConfigError(`unexpected argument: ${flags.positional[0]}\nRun with --help to list the flags and commands.`);
  }
  const values = {} as Record<string, unknown>;
  for (const [key, setting] of Object.entries(SETTINGS as Record<string, Setting<unknown>>)) {
    let source = "default";
    let raw = setting.defaultText;
    const envName = setting.env.find((name) => env[name] !== undefined);
    if (setting.flag && flags.given.has(setting.flag)) {
      raw = setting.bool ? String(flags.bools.has(setting.flag)) : flags.strings.get(setting.flag)!;
      source = `-${setting.flag}`;
    } else if (envName) {
      raw = env[envName]!;
      source = envName;
    }
    try {
      values[key] = setting.parse(raw);
    } catch {
      throw new ConfigError(`invalid value "${raw}" for ${source}: expected ${setting.accepts}`);
    }
  }
  const v = values as Values;
  return {
    title: v.title,
    subtitle: v.subtitle,
    footer: v.footer,
    showDocs: v.showDocs,
    perMinuteLimit: v.perMinuteLimit,
    maxPasteBytes: v.maxSize * 1024 * 1024,
    host: v.host,
    port: v.port,
    behindProxy: v.behindProxy,
    trustedProxies: v.trustedProxies,
    dbPath: path.resolve(v.dbPath),
    logLevel: v.logLevel,
    metricsAddr: v.metricsAddr && { host: v.metricsAddr.host ?? v.host, port: v.metricsAddr.port },
    replication: v.replicaUrl
      ? {
          replicaUrl: v.replicaUrl,
          syncMode: v.syncMode,
          syncIntervalMs: v.syncInterval,
          syncTimeoutMs: v.syncTimeout,
          snapshotIntervalMs: v.snapshotInterval,
          retentionMs: v.retention,
          leaseTtlMs: v.leaseTtl,
        }
      : null,
  };
}

/** The `--help` text: every flag and variable with its default. */
export function configHelp(): string {
  const rows = Object.values(SETTINGS as Record<string, Setting<unknown>>).map((s) => {
    const names = [s.flag ? `-${s.flag}${s.bool ? "" : " value"}` : "", ...s.env].filter(Boolean).join(", ");
    const def = s.defaultText === "" ? "(empty)" : JSON.stringify(s.defaultText);
    return `  ${names}\n      ${s.help} (default ${def})`;
  });
  return rows.join("\n");
}
