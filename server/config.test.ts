import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { UsageError } from "../internal/usage-error.js";
import { REPLICATION_DEFAULTS } from "../replication/index.js";
import { configHelp, loadConfig } from "./config.js";

test("defaults match LogPaste's", () => {
  const c = loadConfig([], {});
  assert.equal(c.title, "LogPaste");
  assert.equal(c.subtitle, "A minimalist, open-source debug log upload service");
  assert.equal(c.footer, "");
  assert.equal(c.showDocs, true);
  assert.equal(c.perMinuteLimit, 0);
  assert.equal(c.maxPasteBytes, 2 * 1024 * 1024);
  assert.equal(c.port, 3001);
  assert.equal(c.behindProxy, false);
  assert.equal(c.dbPath, path.resolve("data/store.db"));
  assert.equal(c.replication, null);
});

test("every Go flag form is accepted: -x v, --x v, -x=v, --x=v", () => {
  assert.equal(loadConfig(["-title", "A"], {}).title, "A");
  assert.equal(loadConfig(["--title", "B"], {}).title, "B");
  assert.equal(loadConfig(["-title=C"], {}).title, "C");
  assert.equal(loadConfig(["--title=D=E"], {}).title, "D=E");
  assert.equal(loadConfig(["-title", "My logs", "-subtitle", "with \"quotes\""], {}).subtitle, 'with "quotes"');
  assert.equal(loadConfig(["-perminutelimit", "5", "-maxsize=10"], {}).maxPasteBytes, 10 * 1024 * 1024);
});

test("boolean flags: -showdocs alone is true, -showdocs=false turns it off", () => {
  assert.equal(loadConfig(["-showdocs=false"], {}).showDocs, false);
  assert.equal(loadConfig(["--showdocs=0"], { SITE_SHOW_DOCUMENTATION: "true" }).showDocs, false);
  assert.equal(loadConfig(["-showdocs"], { SITE_SHOW_DOCUMENTATION: "false" }).showDocs, true);
});

test("environment: LogPaste's current and legacy names; a flag wins over its variable", () => {
  const env = {
    PORT: "8080",
    LP_BEHIND_PROXY: "y",
    SITE_TITLE: "Env title",
    SITE_SUBTITLE: "Env subtitle",
    SITE_FOOTER: "<i>f</i>",
    SITE_SHOW_DOCUMENTATION: "false",
    PER_MINUTE_LIMIT: "7",
    DB_PATH: "/tmp/x/y.db",
  };
  const c = loadConfig([], env);
  assert.deepEqual(
    [c.port, c.behindProxy, c.title, c.subtitle, c.footer, c.showDocs, c.perMinuteLimit, c.dbPath],
    [8080, true, "Env title", "Env subtitle", "<i>f</i>", false, 7, "/tmp/x/y.db"],
  );
  const flagged = loadConfig(["-title", "Flag title", "-perminutelimit=9"], env);
  assert.equal(flagged.title, "Flag title");
  assert.equal(flagged.perMinuteLimit, 9);
  assert.equal(loadConfig([], { LP_BEHIND_PROXY: "" }).behindProxy, false, "empty means off");
});

test("replication settings: DB_REPLICA_URL turns it on; durations in Go syntax", () => {
  const c = loadConfig([], { DB_REPLICA_URL: "s3://bucket/db", DB_SYNC_INTERVAL: "10s", DB_SYNC_MODE: "sync", DB_RETENTION: "72h", DB_LEASE_TTL: "1m" });
  assert.deepEqual(c.replication, {
    replicaUrl: "s3://bucket/db",
    syncMode: "sync",
    syncIntervalMs: 10_000,
    syncTimeoutMs: REPLICATION_DEFAULTS.syncTimeoutMs,
    snapshotIntervalMs: REPLICATION_DEFAULTS.snapshotIntervalMs,
    retentionMs: 259_200_000,
    leaseTtlMs: 60_000,
  });
  assert.equal(loadConfig([], { DB_REPLICA_URL: "s3://bucket/db" }).replication?.leaseTtlMs, REPLICATION_DEFAULTS.leaseTtlMs);
});

test("bad values are rejected naming the flag or variable and the accepted values", () => {
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [["-perminutelimit", "abc"], {}, /invalid value "abc" for -perminutelimit: expected a whole number, 0 or more/],
    [["-perminutelimit=-1"], {}, /-perminutelimit/],
    [["-maxsize", "0"], {}, /invalid value "0" for -maxsize: expected a whole number of MiB from 1 to 1024/],
    [["-showdocs=maybe"], {}, /invalid boolean value "maybe" for -showdocs: expected true or false/],
    [[], { PORT: "99999" }, /invalid value "99999" for PORT: expected a port number/],
    [[], { PER_MINUTE_LIMIT: "lots" }, /for PER_MINUTE_LIMIT/],
    [[], { DB_REPLICA_URL: "s3://b/p", DB_SYNC_INTERVAL: "10" }, /invalid value "10" for DB_SYNC_INTERVAL: expected a duration/],
    [[], { DB_REPLICA_URL: "s3://b/p", DB_SYNC_MODE: "fast" }, /for DB_SYNC_MODE: expected async or sync/],
    [[], { DB_REPLICA_URL: "s3://b/p", DB_LEASE_TTL: "500ms" }, /invalid value "500ms" for DB_LEASE_TTL: expected a duration of 1s or more/],
    [["-nosuchflag"], {}, /flag provided but not defined: -nosuchflag/],
    [["-title"], {}, /flag needs an argument: -title/],
    [["stray"], {}, /unexpected argument: stray \(not a command/],
  ];
  for (const [argv, env, message] of cases) {
    assert.throws(() => loadConfig(argv, env), (e: Error) => e instanceof UsageError && message.test(e.message), `${argv} ${JSON.stringify(env)}`);
  }
});

test("--help lists every flag and variable with its default", () => {
  const help = configHelp();
  for (const name of ["-title", "-subtitle", "-footer", "-showdocs", "-perminutelimit", "-maxsize", "PORT", "LP_BEHIND_PROXY",
    "SITE_TITLE", "SITE_SUBTITLE", "SITE_FOOTER", "SITE_SHOW_DOCUMENTATION", "PER_MINUTE_LIMIT", "DB_PATH",
    "DB_REPLICA_URL", "DB_SYNC_INTERVAL", "DB_SYNC_MODE", "DB_SYNC_TIMEOUT", "DB_SNAPSHOT_INTERVAL", "DB_RETENTION", "DB_LEASE_TTL"]) {
    assert.ok(help.includes(name), name);
  }
  assert.match(help, /default "3001"/);
  assert.match(help, /default "LogPaste"/);
});

test("METRICS_ADDR: host:port, [IPv6]:port, or :port on HOST's address; unset serves /metrics on the main port", () => {
  assert.equal(loadConfig([], {}).metricsAddr, null);
  assert.deepEqual(loadConfig([], { METRICS_ADDR: "127.0.0.1:9090" }).metricsAddr, { host: "127.0.0.1", port: 9090 });
  assert.deepEqual(loadConfig([], { METRICS_ADDR: "metrics.internal:0" }).metricsAddr, { host: "metrics.internal", port: 0 });
  assert.deepEqual(loadConfig([], { METRICS_ADDR: "[::1]:9090" }).metricsAddr, { host: "::1", port: 9090 });
  assert.deepEqual(loadConfig([], { METRICS_ADDR: ":9090" }).metricsAddr, { host: "::", port: 9090 });
  assert.deepEqual(loadConfig([], { METRICS_ADDR: ":9090", HOST: "127.0.0.1" }).metricsAddr, { host: "127.0.0.1", port: 9090 });
  for (const bad of ["9090", ":65536", "host:", "::1:9090", "a b:1"]) {
    assert.throws(() => loadConfig([], { METRICS_ADDR: bad }), (err: Error) => err instanceof UsageError && err.message.includes(`"${bad}" for METRICS_ADDR`), bad);
  }
});

test("issue 13: Go's leniency — a stray argument ends the flags with a warning, PORT=\"\" is 3001, SITE_SHOW_DOCUMENTATION is off only when exactly false", () => {
  const stray = loadConfig(["-showdocs", "false", "-title", "not applied"], {});
  assert.equal(stray.showDocs, true, "-showdocs false is -showdocs, then a positional: LogPaste keeps the docs on");
  assert.equal(stray.title, "LogPaste", "the flags after the first positional are ignored, as Go's flag package does");
  assert.deepEqual(stray.warnings, ["ignored: false -title not applied (flags end at the first argument that is not one, as in Go: write -flag=value for a boolean)"]);
  assert.deepEqual(loadConfig([], {}).warnings, []);
  assert.equal(loadConfig([], { PORT: "" }).port, 3001);
  assert.equal(loadConfig([], { PORT: "  " }).port, 3001);
  for (const [text, shown] of [["false", false], ["False", true], ["0", true], ["yes", true], ["", true], ["true", true]] as const) {
    assert.equal(loadConfig([], { SITE_SHOW_DOCUMENTATION: text }).showDocs, shown, JSON.stringify(text));
  }
});

test("issue 13: the default listens dual-stack, with the IPv4 fallback only when HOST was not chosen", () => {
  const c = loadConfig([], {});
  assert.equal(c.host, "::");
  assert.equal(c.ipv4Fallback, true);
  const chosen = loadConfig([], { HOST: "::" });
  assert.equal(chosen.ipv4Fallback, false, "an operator who asked for :: gets an error, not IPv4, on a machine without IPv6");
});
