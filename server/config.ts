// Every setting of the server, read once at start-up from flags (LogPaste's, Go style)
// and environment variables (LogPaste's current and legacy names), validated into one
// typed Config. Precedence: flag, then environment, then a litestream.yml (issue 13:
// -config / LITESTREAM_CONFIG, read by litestream-config.ts), then default.

import path from "node:path";
import { REPLICATION_DEFAULTS, type ReplicationConfig } from "../replication/index.js";
import { DEFAULT_TRUSTED_PROXIES } from "./client-ip.js";
import { formatDuration, parseDuration } from "../internal/duration.js";
import { parseGoBool, parseGoFlags, type FlagKind, type ParsedFlags } from "../internal/go-flags.js";
import { UsageError } from "../internal/usage-error.js";
import { DEFAULT_INFLIGHT_PASTES } from "./pastes/upload-budget.js";
import { parseBaseUrl } from "./public-origin.js";
import { DEFAULT_PASTE_CACHE_BYTES } from "./pastes/cache.js";
import { readLitestreamConfig, type FileSettingKey, type LitestreamFile } from "./litestream-config.js";

export interface Config {
  readonly title: string;
  readonly subtitle: string;
  /** Raw HTML, written by the operator. */
  readonly footer: string;
  readonly showDocs: boolean;
  /** Browsers navigating to /<id> get the HTML log viewer (issue 16); false: always the raw bytes. */
  readonly viewer: boolean;
  /** Uploads per client IP per minute; 0 turns the limit off. */
  readonly perMinuteLimit: number;
  /** The largest paste accepted, in bytes (`-maxsize` is in MiB). */
  readonly maxPasteBytes: number;
  readonly host: string;
  /** Issue 13: HOST was not given, so a machine without IPv6 listens on 0.0.0.0 instead of the dual-stack "::". */
  readonly ipv4Fallback: boolean;
  readonly port: number;
  /** Trust X-Forwarded-For & co. for the client IP and answer POST with https:// URLs. */
  readonly behindProxy: boolean;
  /** Issue 12: how many proxies append the client address (read only when behindProxy). */
  readonly trustedProxies: number;
  readonly dbPath: string;
  readonly logLevel: string;
  /** Where /metrics is served instead of on the main listener; null: on the main listener. */
  readonly metricsAddr: ListenAddress | null;
  /** Issue 11: bytes of hot pastes kept in memory (`-cachesize` is in MiB); 0 turns the cache off. */
  readonly pasteCacheBytes: number;
  /** Null when DB_REPLICA_URL is unset. */
  readonly replication: ReplicationConfig | null;
  /** Issue 12: upload bytes all requests together may hold in memory (`-maxinflight` is in MiB). */
  readonly maxInflightBytes: number;
  /** Issue 12: the public origin for links, pinned (`-baseurl`); null: taken from the (checked) Host header. */
  readonly baseUrl: string | null;
  // Issue 12 (connections and timeouts): see server/connections.ts.
  /** From the first byte of a request to its last, headers and body. */
  readonly requestTimeoutMs: number;
  /** From the first byte of a request to the end of its headers (at most requestTimeoutMs). */
  readonly headersTimeoutMs: number;
  /** How long a kept-alive connection waits for its next request. */
  readonly keepAliveTimeoutMs: number;
  /** A connection with no bytes in either direction for this long is closed. */
  readonly idleTimeoutMs: number;
  /** Open connections at most; the next one gets 503. */
  readonly maxConnections: number;
  // Issue 13 (LogPaste + Litestream drop-in).
  /** The litestream.yml's S3 keys, for the replica client's environment where it has none (never logged). */
  readonly fileCredentials: LitestreamFile["credentials"];
  /** What was accepted but ignored (a stray argument, a file setting a flag or variable overrides): logged at start-up. */
  readonly warnings: readonly string[];
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
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

/** LogPaste's port when PORT is unset or empty (its Go code treats "" as unset). */
const DEFAULT_PORT = 3001;
/** Every IPv6 and, with Node's default ipv6Only=false, every IPv4 address: Go's `:PORT`. */
const DUAL_STACK_HOST = "::";

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
    help: "show the usage documentation on the home page (the variable: shown unless it is exactly false, as LogPaste's entry point read it)",
    accepts: "true or false (the flag also 1/0, t/f)",
    // The flag's Go booleans arrive here as "true"/"false"; the variable's text as it is.
    parse: (t: string) => t !== "false",
    bool: true,
  },
  // Issue 16: the log viewer.
  viewer: {
    flag: "viewer",
    env: ["PASTE_VIEWER"],
    defaultText: "true",
    help: "answer browsers navigating to /<id> with the HTML log viewer; false: always the raw bytes, as LogPaste",
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
  port: {
    env: ["PORT"],
    defaultText: String(DEFAULT_PORT),
    help: `TCP port to listen on (empty: ${DEFAULT_PORT}, as LogPaste)`,
    accepts: "a port number from 0 to 65535",
    parse: (t: string) => (t.trim() === "" ? DEFAULT_PORT : wholeNumber(0, 65535)(t)),
  },
  host: {
    env: ["HOST"],
    defaultText: DUAL_STACK_HOST,
    help: "address to listen on (the default :: is every IPv6 and IPv4 address, as LogPaste's :PORT; 0.0.0.0 on a machine without IPv6)",
    accepts: "an IP address or host name",
    parse: text,
  },
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
  // Issue 11 (reads): the paste cache.
  cacheSize: {
    flag: "cachesize",
    env: ["PASTE_CACHE_MIB"],
    defaultText: String(DEFAULT_PASTE_CACHE_BYTES / 1024 / 1024),
    help: "memory for hot pastes, in MiB (least recently read leave first); 0 = no cache",
    accepts: "a whole number of MiB from 0 to 4096",
    parse: wholeNumber(0, 4096),
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
  // Issue 12 (uploads): memory held by uploads, and the origin of the links they are answered with.
  maxInflight: {
    flag: "maxinflight",
    env: ["UPLOAD_MAX_INFLIGHT_MIB"],
    defaultText: "",
    help: `upload bytes all requests together may hold in memory, in MiB; past it uploads get 503 (empty = ${DEFAULT_INFLIGHT_PASTES} × -maxsize)`,
    accepts: "a whole number of MiB from 1 to 65536, at least -maxsize, or empty",
    parse: (t: string) => (t === "" ? null : wholeNumber(1, 65536)(t)),
  },
  baseUrl: {
    flag: "baseurl",
    env: ["BASE_URL"],
    defaultText: "",
    help: "the public origin for the links uploads are answered with, as https://paste.example.com; empty = from the Host header",
    accepts: "an http:// or https:// origin (scheme, host and optional port; no path, query or credentials), or empty",
    parse: parseBaseUrl,
  },
  // Issue 12: connections and timeouts (docs/reliability.md, "Connections and timeouts").
  requestTimeout: {
    env: ["LP_REQUEST_TIMEOUT"],
    defaultText: "1m",
    help: "a request (headers and body) must arrive whole within this; a slower one gets 408 and is closed",
    accepts: "a duration of 1s or more, such as 30s, 1m, 10m",
    parse: duration(1000),
  },
  headersTimeout: {
    env: ["LP_HEADERS_TIMEOUT"],
    defaultText: "10s",
    help: "a request's headers must arrive within this (at most LP_REQUEST_TIMEOUT); a slower one gets 408 and is closed",
    accepts: "a duration of 1s or more, such as 10s, 30s",
    parse: duration(1000),
  },
  keepAliveTimeout: {
    env: ["LP_KEEPALIVE_TIMEOUT"],
    defaultText: "5s",
    help: "how long an idle kept-alive connection waits for the next request before it is closed",
    accepts: "a duration of 100ms or more, such as 5s, 1m",
    parse: duration(100),
  },
  idleTimeout: {
    env: ["LP_IDLE_TIMEOUT"],
    defaultText: "1m",
    help: "a connection with no bytes sent or received for this long is closed (e.g. a client that stops reading)",
    accepts: "a duration of 1s or more, such as 30s, 1m",
    parse: duration(1000),
  },
  maxConnections: {
    env: ["LP_MAX_CONNECTIONS"],
    defaultText: "500",
    help: "open client connections at most; one more gets 503 with Retry-After and is closed",
    accepts: "a whole number, 1 or more",
    parse: wholeNumber(1),
  },
  // Issue 13: a LogPaste + Litestream deployment's litestream.yml (docs/replication.md, "litestream.yml").
  litestreamConfig: {
    flag: "config",
    env: ["LITESTREAM_CONFIG"],
    defaultText: "",
    help: "read the database path, the replica and its intervals from this litestream.yml (flags and variables win over it); empty = none",
    accepts: "a file path, or empty",
    parse: text,
  },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;
type Values = { [K in keyof Settings]: ReturnType<Settings[K]["parse"]> };

/** The flags of `litepaste` (serving): the settings LogPaste has as flags. */
export const CONFIG_FLAGS: Readonly<Record<string, FlagKind>> = Object.fromEntries(
  Object.values(SETTINGS as Record<string, Setting<unknown>>)
    .filter((s) => s.flag)
    .map((s) => [s.flag!, s.bool ? ("bool" as const) : ("string" as const)]),
);

/**
 * One setting's value from its text, by the table's rules (the stand-alone `replicate`
 * command reads its durations with these too); throws UsageError naming `source` (the flag
 * or variable the text came from) and what the setting accepts.
 */
export function parseSetting<K extends keyof Settings>(key: K, raw: string, source: string): Values[K] {
  const setting: Setting<unknown> = SETTINGS[key];
  try {
    return setting.parse(raw) as Values[K];
  } catch {
    throw new UsageError(`invalid value "${raw}" for ${source}: expected ${setting.accepts}`);
  }
}

/** Reads flags and environment into a Config; throws UsageError naming the setting and what it accepts. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  return configFromFlags(parseGoFlags(argv, CONFIG_FLAGS), env);
}

/** The same, from flags already parsed with CONFIG_FLAGS (the CLI parses them to see -h first). */
export function configFromFlags(flags: ParsedFlags, env: NodeJS.ProcessEnv): Config {
  if (flags.help) throw new UsageError("-h asks for the help, not for a configuration");
  const warnings: string[] = [];
  // Go's flag package stops at the first argument that is not a flag, and LogPaste then
  // serves anyway: so `-showdocs false` is -showdocs, and "false" and all after it are dropped.
  // But a first argument that is a word is a mistyped command (litepaste has commands, LogPaste
  // had none): serving then would start a server where the operator meant a restore.
  if (flags.positional.length > 0 && flags.given.size === 0) {
    throw new UsageError(`unexpected argument: ${flags.positional[0]} (not a command: litepaste help lists them)`);
  }
  if (flags.positional.length > 0) {
    warnings.push(`ignored: ${flags.positional.join(" ")} (flags end at the first argument that is not one, as in Go: write -flag=value for a boolean)`);
  }
  /** The flag's text, else the first variable's, else null. */
  const given = (setting: Setting<unknown>): { raw: string; source: string } | null => {
    if (setting.flag && flags.given.has(setting.flag)) {
      return { raw: setting.bool ? String(flags.bools.has(setting.flag)) : flags.strings.get(setting.flag)!, source: `-${setting.flag}` };
    }
    const envName = setting.env.find((name) => env[name] !== undefined);
    return envName ? { raw: env[envName]!, source: envName } : null;
  };
  const configPath = given(SETTINGS.litestreamConfig)?.raw ?? "";
  const file = configPath === "" ? null : readLitestreamConfig(configPath, env);
  const values = {} as Record<string, unknown>;
  for (const [key, setting] of Object.entries(SETTINGS as Record<string, Setting<unknown>>)) {
    const fromFile = file?.settings.get(key as FileSettingKey);
    const chosen = given(setting);
    if (chosen && fromFile && chosen.raw !== fromFile.text) warnings.push(`${chosen.source} overrides ${fromFile.source}`);
    const { raw, source } = chosen ?? (fromFile ? { raw: fromFile.text, source: fromFile.source } : { raw: setting.defaultText, source: "default" });
    values[key] = parseSetting(key as keyof Settings, raw, source);
  }
  const v = values as Values;
  return {
    title: v.title,
    subtitle: v.subtitle,
    footer: v.footer,
    showDocs: v.showDocs,
    viewer: v.viewer,
    perMinuteLimit: v.perMinuteLimit,
    maxPasteBytes: v.maxSize * 1024 * 1024,
    host: v.host,
    ipv4Fallback: given(SETTINGS.host) === null,
    port: v.port,
    behindProxy: v.behindProxy,
    trustedProxies: v.trustedProxies,
    dbPath: path.resolve(v.dbPath),
    logLevel: v.logLevel,
    metricsAddr: v.metricsAddr && { host: v.metricsAddr.host ?? v.host, port: v.metricsAddr.port },
    pasteCacheBytes: v.cacheSize * 1024 * 1024,
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
    maxInflightBytes: inflightMiB(v.maxInflight, v.maxSize) * 1024 * 1024,
    baseUrl: v.baseUrl,
    // Issue 12: connections and timeouts.
    requestTimeoutMs: v.requestTimeout,
    headersTimeoutMs: v.headersTimeout,
    keepAliveTimeoutMs: v.keepAliveTimeout,
    idleTimeoutMs: v.idleTimeout,
    maxConnections: v.maxConnections,
    // Issue 13.
    fileCredentials: file?.credentials ?? null,
    warnings,
  };
}

/** Issue 12: the budget must let at least one paste of the largest size through. */
function inflightMiB(maxInflight: number | null, maxSize: number): number {
  if (maxInflight === null) return DEFAULT_INFLIGHT_PASTES * maxSize;
  if (maxInflight < maxSize) throw new UsageError(`invalid value "${maxInflight}" for -maxinflight (UPLOAD_MAX_INFLIGHT_MIB): expected at least -maxsize (${maxSize} MiB), or one paste of the largest size could never be uploaded`);
  return maxInflight;
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
