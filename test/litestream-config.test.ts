// Issue 13, as an operator runs it: litepaste started with LogPaste's litestream.yml (or a
// tuned one) replicating to the tests' S3 server and restoring from it, a setting it cannot
// honour refused at start-up, and the dual-stack default listener.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { failCli, serveCli } from "../testkit/litepaste-process.js";
import { startS3rver, type S3rverHandle } from "../testkit/s3rver.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { LOGPASTE_YML } from "../testkit/litestream-yml.js";

const newDir = useScratchDirs("litepaste-litestream-e2e");
let s3: S3rverHandle;
before(async () => {
  s3 = await startS3rver();
});
after(() => s3.dispose());

function writeYml(dir: string, text: string): string {
  const file = path.join(dir, "litestream.yml");
  fs.writeFileSync(file, text);
  return file;
}

async function put(url: string, body: string): Promise<string> {
  const res = await fetch(`${url}/`, { method: "PUT", body });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

test("LogPaste's exact litestream.yml with its environment replicates to S3 and restores on the next start", async () => {
  const dir = newDir("logpaste");
  const config = writeYml(dir, LOGPASTE_YML);
  const env = { ...s3.env, LITESTREAM_CONFIG: config, DB_PATH: path.join(dir, "store.db"), DB_REPLICA_URL: s3.url("logpaste-yml"), DB_SYNC_INTERVAL: "10s", DB_SYNC_MODE: "sync" };
  const first = await serveCli(env, { ready: "healthy" });
  let id: string;
  try {
    id = await put(first.url, "replicated through LogPaste's litestream.yml");
  } finally {
    assert.equal(await first.stop(), 0);
  }
  assert.doesNotMatch(first.output(), /overrides/, "the file and the environment agree");
  for (const name of fs.readdirSync(dir)) if (name.startsWith("store.db")) fs.rmSync(path.join(dir, name), { recursive: true });
  const second = await serveCli(env, { ready: "healthy" });
  try {
    const res = await fetch(`${second.url}/${id}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "replicated through LogPaste's litestream.yml");
  } finally {
    assert.equal(await second.stop(), 0);
  }
  assert.match(second.output(), /restor/i);
});

test("a tuned litestream.yml (type/bucket/path/endpoint, keys and intervals in the file) is what the server replicates to", async () => {
  const dir = newDir("tuned");
  const config = writeYml(dir, `access-key-id: ${s3.env.LITESTREAM_ACCESS_KEY_ID}
secret-access-key: \${MY_SECRET}
dbs:
  - path: ${path.join(dir, "tuned.db")}
    replicas:
      - type: s3
        bucket: ${s3.bucket}
        path: tuned/prod
        endpoint: ${s3.endpoint}
        force-path-style: true
        retention: 72h
        snapshot-interval: 6h
        sync-interval: 250ms
`);
  // The secret reaches the file only by expansion, the key id only as written in it: nothing in the environment names the replica.
  const server = await serveCli({ MY_SECRET: s3.env.LITESTREAM_SECRET_ACCESS_KEY, DB_SYNC_MODE: "sync" }, { args: ["-config", config], ready: "healthy" });
  try {
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { replication: { target: string; mode: string } };
    assert.equal(health.replication.mode, "sync");
    assert.match(health.replication.target, new RegExp(`^s3://${s3.bucket}/tuned/prod\\b`));
    assert.ok(!JSON.stringify(health).includes(s3.env.LITESTREAM_SECRET_ACCESS_KEY!), "no secret in /healthz");
    await put(server.url, "tuned");
    assert.ok(fs.existsSync(path.join(dir, "tuned.db")), "the file's database path is used");
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.ok(!server.output().includes(s3.env.LITESTREAM_SECRET_ACCESS_KEY!), "no secret in the log");
});

test("a setting litepaste cannot honour stops the start with exit 2 and its name", async () => {
  const dir = newDir("refused");
  const config = writeYml(dir, "dbs:\n  - path: /tmp/x.db\n    replicas:\n      - url: s3://b/p\n        age:\n          recipients: [age1abc]\n");
  const { code, output } = await failCli({ LITESTREAM_CONFIG: config });
  assert.equal(code, 2);
  assert.match(output, /dbs\[0\]\.replicas\[0\]\.age: not supported/);
  assert.ok(output.includes(config));
});

test("a flag and a variable win over the file, and the log says so", async () => {
  const dir = newDir("precedence");
  const config = writeYml(dir, `dbs:\n  - path: ${path.join(dir, "file.db")}\n`);
  const server = await serveCli({ DB_PATH: path.join(dir, "env.db"), SITE_TITLE: "env" }, { args: ["-config", config, "-title", "flag"] });
  try {
    assert.ok((await (await fetch(`${server.url}/`)).text()).includes("<title>flag</title>"));
    await put(server.url, "where does it go");
    assert.ok(fs.existsSync(path.join(dir, "env.db")));
    assert.ok(!fs.existsSync(path.join(dir, "file.db")));
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.match(server.output(), /DB_PATH overrides litestream.yml/);
});

test("by default the server listens on IPv4 and IPv6 (LogPaste's :PORT), or on IPv4 alone where there is no IPv6", async () => {
  const dir = newDir("dual");
  const server = await serveCli({ HOST: undefined, DB_PATH: path.join(dir, "store.db") });
  try {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200, "127.0.0.1");
    const v6 = await fetch(server.url.replace("127.0.0.1", "[::1]") + "/healthz").then((r) => r.status, (err: Error) => err);
    if (v6 instanceof Error) {
      // No ::1 here: then the server must have fallen back to 0.0.0.0, and said so.
      assert.match(server.output(), /no IPv6 here: listening on 0.0.0.0/, String(v6.cause ?? v6));
    } else {
      assert.equal(v6, 200, "[::1]");
      assert.match(server.output(), /"url":"http:\/\/\[::\]:\d+"/);
    }
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
