// Issue 13: litestream.yml as a settings layer — Go's expansion, LogPaste's file, a tuned
// file in Litestream's field form, what is refused, and the precedence over it.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../internal/usage-error.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { loadConfig } from "./config.js";
import { expandEnv } from "./litestream-config.js";
import { LOGPASTE_YML } from "../testkit/litestream-yml.js";

const newDir = useScratchDirs("litepaste-litestream-yml");

function writeYml(text: string): string {
  const file = path.join(newDir("yml"), "litestream.yml");
  fs.writeFileSync(file, text);
  return file;
}


test("the environment is expanded as Go's os.ExpandEnv does it", () => {
  const env = { A: "x", B_2: "y", EMPTY: "" };
  assert.equal(expandEnv("${A}-$A-$B_2-${B_2}", env), "x-x-y-y");
  assert.equal(expandEnv("$UNSET|${UNSET}|$EMPTY", env), "||", "unset and empty are both empty");
  assert.equal(expandEnv("cost: 5$ and $-", env), "cost: 5$ and ", "a $ before a non-name stays; $- is a (special, empty) variable");
  assert.equal(expandEnv("${}x", env), "x", "${} is dropped");
  assert.equal(expandEnv("${A", env), "A", "an unclosed ${ loses only ${");
  assert.equal(expandEnv("$1A", env), "A", "$1 is a special variable, then A is text");
  assert.equal(expandEnv("trailing $", env), "trailing $");
});

test("LogPaste's exact file with its environment: the database, the replica, the interval and the keys", () => {
  const file = writeYml(LOGPASTE_YML);
  const env = {
    LITESTREAM_ACCESS_KEY_ID: "AKID",
    LITESTREAM_SECRET_ACCESS_KEY: "SECRET",
    DB_PATH: "/data/store.db",
    DB_REPLICA_URL: "s3://bucket/db",
    DB_SYNC_INTERVAL: "10s",
  };
  // Unset, the variables expand to empty: LogPaste's file without DB_REPLICA_URL is no replica.
  const bare = loadConfig(["-config", file], { LITESTREAM_ACCESS_KEY_ID: "AKID", LITESTREAM_SECRET_ACCESS_KEY: "SECRET" });
  assert.equal(bare.replication, null);
  assert.equal(bare.dbPath, path.resolve("data/store.db"));
  const full = loadConfig([], { ...env, LITESTREAM_CONFIG: file });
  assert.equal(full.dbPath, "/data/store.db");
  assert.equal(full.replication?.replicaUrl, "s3://bucket/db");
  assert.equal(full.replication?.syncIntervalMs, 10_000);
  assert.deepEqual(full.fileCredentials, { accessKeyId: "AKID", secretAccessKey: "SECRET" });
  assert.deepEqual(full.warnings, [], "the same values from the file and the environment are no conflict");
  const regional = loadConfig([], { ...env, LITESTREAM_CONFIG: file, LITESTREAM_REGION: "eu-west-1" });
  assert.equal(regional.replication?.replicaUrl, "s3://bucket/db", "the top-level region is Litestream's ignored key: the S3 client reads LITESTREAM_REGION");
  assert.deepEqual(regional.warnings, []);
});

test("a tuned file: Litestream's s3 fields become one URL, its intervals the replication settings", () => {
  const file = writeYml(`
dbs:
  - path: /var/lib/app/db.sqlite
    replicas:
      - type: s3
        bucket: my-bucket
        path: /backups/app
        region: eu-central-1
        endpoint: https://s3.eu-central-1.wasabisys.com
        force-path-style: true
        skip-verify: false
        retention: 72h
        retention-check-interval: 1h
        snapshot-interval: 6h
        sync-interval: 250ms
`);
  const c = loadConfig(["-config", file], {});
  assert.equal(c.dbPath, "/var/lib/app/db.sqlite");
  assert.deepEqual(c.replication && { ...c.replication, syncMode: undefined, syncTimeoutMs: undefined, leaseTtlMs: undefined }, {
    replicaUrl: "s3://my-bucket/backups/app?region=eu-central-1&endpoint=https%3A%2F%2Fs3.eu-central-1.wasabisys.com&forcePathStyle=true&skipVerify=false",
    syncMode: undefined,
    syncIntervalMs: 250,
    syncTimeoutMs: undefined,
    snapshotIntervalMs: 6 * 3_600_000,
    retentionMs: 72 * 3_600_000,
    leaseTtlMs: undefined,
  });
  const fileReplica = writeYml("dbs:\n  - path: /x.db\n    replicas:\n      - path: /mnt/replica\naddr: \":9090\"\nlogging:\n  level: WARN\n");
  const f = loadConfig([], { LITESTREAM_CONFIG: fileReplica, HOST: "127.0.0.1" });
  assert.equal(f.replication?.replicaUrl, "/mnt/replica", "no url and no type: a file replica, as Litestream");
  assert.deepEqual(f.metricsAddr, { host: "127.0.0.1", port: 9090 }, "addr serves the metrics, as Litestream's");
  assert.equal(f.logLevel, "warn");
});

test("flags and variables win over the file, and each override is reported", () => {
  const file = writeYml("dbs:\n  - path: /from/file.db\n    replicas:\n      - url: s3://file-bucket/db\n        retention: 72h\n        sync-interval: 5s\n");
  const c = loadConfig(["-config", file], { DB_PATH: "/from/env.db", DB_RETENTION: "24h", LITESTREAM_CONFIG: "/not/this/one.yml" });
  assert.equal(c.dbPath, "/from/env.db");
  assert.equal(c.replication?.retentionMs, 24 * 3_600_000);
  assert.equal(c.replication?.syncIntervalMs, 5000, "what the environment does not set comes from the file");
  assert.equal(c.replication?.replicaUrl, "s3://file-bucket/db");
  assert.ok(c.warnings.some((w) => /^DB_PATH overrides litestream.yml \(.*\) dbs\[0\]\.path$/.test(w)), c.warnings.join("\n"));
  assert.ok(c.warnings.some((w) => w.startsWith("DB_RETENTION overrides")));
});

test("what litepaste cannot honour is a start-up error naming the setting", () => {
  const replica = (extra: string) => `dbs:\n  - path: /x.db\n    replicas:\n      - url: s3://b/p\n${extra}`;
  const cases: Array<[string, RegExp]> = [
    ["dbs:\n  - path: /a.db\n  - path: /b.db\n", /dbs: not supported: 2 databases/],
    [replica("      - url: s3://b/q\n"), /dbs\[0\]\.replicas: not supported: 2 replicas/],
    [replica("        age:\n          recipients: [age1xyz]\n"), /dbs\[0\]\.replicas\[0\]\.age: not supported: .*encrypt/],
    [replica("        validation-interval: 1h\n"), /replicas\[0\]\.validation-interval: not supported/],
    [replica("        retention-check-interval: 5m\n"), /retention-check-interval: not supported: "5m"/],
    [replica("        retention: 86400\n"), /replicas\[0\]\.retention: expected text, got the number 86400/],
    [replica("        rentention: 24h\n"), /replicas\[0\]\.rentention: unknown key/],
    [replica("        bucket: other\n"), /give either url or bucket, not both/],
    ["exec: /app/logpaste\n", /exec: not supported: litepaste is the application/],
    ["dbs:\n  - path: /x.db\n    checkpoint-interval: 1m\n", /dbs\[0\]\.checkpoint-interval: not supported/],
    ["dbs:\n  - path: /x.db\n    replicas:\n      - path: /dir\n        region: us-east-1\n", /S3 settings, and this replica is file/],
    ["dbs:\n  - path: /x.db\n    replicas:\n      - type: sftp\n        host: h:22\n", /replicas\[0\]\.host: not supported: write an SFTP replica as url/],
    [replica("        retention: soon\n"), /invalid value "soon" for litestream.yml \(.*\) dbs\[0\]\.replicas\[0\]\.retention: expected a duration/],
    ["access-key-id: AKID\n", /secret-access-key: missing/],
    ["dbs: [unclosed\n", /not valid YAML/],
  ];
  for (const [yml, message] of cases) {
    const file = writeYml(yml);
    assert.throws(() => loadConfig(["-config", file], {}), (e: Error) => e instanceof UsageError && e.message.includes(file) && message.test(e.message), `${yml} → ${message}`);
  }
  assert.throws(() => loadConfig([], { LITESTREAM_CONFIG: "/no/such/litestream.yml" }), /cannot read the litestream.yml given by -config or LITESTREAM_CONFIG \(\/no\/such\/litestream.yml\)/);
});
