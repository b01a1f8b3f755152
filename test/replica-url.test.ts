// Replica URLs through the real `litepaste` process: a secret written into the URL or the
// credentials never comes out (start-up errors, --help, every command, /healthz, /metrics,
// the logs of a server whose store is down); a quoted URL is used without its quotes and a
// relative path is refused; Litestream's BUCKET.localhost:PORT form works end to end.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { openReplicaClient } from "../replication/replica/url.js";
import { listAll } from "../replication/replica/contract.js";
import { CLI, failCli, runCli, serveCli } from "../testkit/litepaste-process.js";
import { startS3rver, type S3rverHandle } from "../testkit/s3rver.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { SECRETS, tracesOf, urlsCarrying } from "../testkit/secrets.js";

const newDir = useScratchDirs("litepaste-replica-url");
const COMMANDS = [["generations"], ["snapshots"], ["wal"], ["restore", "-o"]] as const;

function assertNoTrace(text: string, what: string): void {
  for (const secret of SECRETS) assert.deepEqual(tracesOf(secret, text), [], `${what}:\n${text}`);
}

/** Every URL form once, the two secrets taking turns (`turn` picks who starts). */
function forms(turn: number): string[] {
  const bySecret = SECRETS.map((secret) => urlsCarrying(secret));
  return bySecret[0]!.map((_, j) => bySecret[(j + turn) % SECRETS.length]![j]!);
}

/** Runs `work` on every item, two at a time (the machine's two cores). */
async function inPairs<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all([worker(), worker()]);
}

function runCliAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("exit", (status) => resolve({ status, output }));
  });
}

async function upload(url: string, body: string): Promise<void> {
  const res = await fetch(`${url}/`, { method: "PUT", body });
  assert.equal(res.status, 200);
}

describe("secrets in a replica URL", () => {
  test("the server refuses to start and its error shows none of the secret", async () => {
    await inPairs(forms(0), async (url) => {
      const { code, output } = await failCli({ DB_REPLICA_URL: url, DB_PATH: path.join(newDir("start"), "store.db") });
      assert.notEqual(code, 0, `${url} was accepted:\n${output}`);
      assert.match(output, /invalid replica URL|unsupported scheme/, output);
      assertNoTrace(output, url);
    });
  });

  test("every command, run as a process, refuses the URL and shows none of the secret", async () => {
    for (const [i, command] of [...COMMANDS, ["replicate"] as const].entries()) {
      await inPairs(forms(i + 1), async (url) => {
        const args = command[0] === "restore" ? ["restore", "-o", path.join(newDir("restore"), "out.db"), url]
          : command[0] === "replicate" ? ["replicate", path.join(newDir("replicate"), "store.db"), url] : [command[0], url];
        const result = await runCliAsync(args);
        assert.equal(result.status, command[0] === "replicate" ? 1 : 2, `${args.join(" ")}: ${result.output}`);
        assertNoTrace(result.output, args.join(" "));
      });
    }
  });

  test("--help and each command's -h, with the secret in the environment", () => {
    const env = { DB_REPLICA_URL: urlsCarrying(SECRETS[1])[0]!, LITESTREAM_SECRET_ACCESS_KEY: SECRETS[0], LITESTREAM_ACCESS_KEY_ID: "AKIAEXAMPLE" };
    for (const args of [["--help"], ["-h"], ["restore", "-h"], ["snapshots", "-h"], ["generations", "-h"], ["wal", "-h"], ["replicate", "-h"]]) {
      const result = runCli(args, env);
      assert.equal(result.status, 0, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stdout, /s3:\/\//);
      assertNoTrace(result.stdout + result.stderr, args.join(" "));
    }
  });
});

describe("with a real S3 server", () => {
  let s3: S3rverHandle;
  before(async () => {
    s3 = await startS3rver();
  });
  after(async () => {
    await s3.dispose();
  });

  test("a store that goes down: logs, /healthz, /metrics and the commands show none of the credentials' secret", async () => {
    // s3rver checks the key pair, not the session token: the token carries the secret.
    const env = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_SESSION_TOKEN: SECRETS[1] };
    const url = s3.url("store-down");
    const server = await serveCli({ ...env, DB_PATH: path.join(newDir("down"), "store.db"), DB_REPLICA_URL: url, DB_SYNC_INTERVAL: "100ms" });
    try {
      await upload(server.url, "before the outage\n");
      await s3.stop();
      await upload(server.url, "during the outage\n");
      const deadline = Date.now() + 30_000;
      while (!server.output().includes("replication failing")) {
        assert.ok(Date.now() < deadline, `no failure logged:\n${server.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const health = await (await fetch(`${server.url}/healthz`)).text();
      assert.match(health, /"target":"s3:\/\/litepaste-test\/store-down\?endpoint=http:\/\/127\.0\.0\.1:\d+"/);
      assertNoTrace(health, "/healthz");
      assertNoTrace(await (await fetch(`${server.url}/metrics`)).text(), "/metrics");
      for (const command of COMMANDS) {
        const args = command[0] === "restore" ? ["restore", "-o", path.join(newDir("restore"), "out.db"), url] : [command[0], url];
        const result = runCli(args, { ...env, LITESTREAM_ACCESS_KEY_ID: "AKIAEXAMPLE", LITESTREAM_SECRET_ACCESS_KEY: SECRETS[0] });
        assert.equal(result.status, 1, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, /cannot reach S3 endpoint/);
        assertNoTrace(result.stdout + result.stderr, args.join(" "));
      }
    } finally {
      await s3.restart();
      await server.stop();
    }
    assertNoTrace(server.output(), "the server's logs");
  });

  test("BUCKET.localhost:PORT (Litestream's local form): http, path-style, end to end", async () => {
    const port = new URL(s3.endpoint).port;
    const url = `s3://${s3.bucket}.localhost:${port}/localhost-form`;
    const dbPath = path.join(newDir("localhost"), "store.db");
    const server = await serveCli({ ...s3.env, DB_PATH: dbPath, DB_REPLICA_URL: url, DB_SYNC_MODE: "sync" });
    try {
      await upload(server.url, "through localhost\n");
      const health = (await (await fetch(`${server.url}/healthz`)).json()) as { replication: { target: string; healthy: boolean } };
      assert.deepEqual(health.replication.target, url);
      assert.equal(health.replication.healthy, true);
    } finally {
      assert.equal(await server.stop(), 0, server.output());
    }
    // The objects are in the bucket, under the path: the same replica seen through ?endpoint=.
    const keys = (await listAll(openReplicaClient(s3.url("localhost-form"), s3.env), "generations/")).map((o) => o.key);
    assert.ok(keys.some((k) => k.endsWith(".snapshot.lz4")), keys.join(" "));
    const restored = path.join(newDir("restored"), "store.db");
    const restore = runCli(["restore", "-o", restored, url], s3.env);
    assert.equal(restore.status, 0, restore.stderr);
    assert.match(restore.stderr, new RegExp(`from ${url.replace(/[.?]/g, "\\$&")}`));
  });
});

describe("a replica URL is what it says or an error", () => {
  test("quotes kept by docker --env-file are removed with a warning; nothing lands in a folder named after the URL", async () => {
    const s3 = await startS3rver();
    const cwd = newDir("cwd");
    try {
      const server = await serveCli({ ...s3.env, DB_PATH: path.join(cwd, "store.db"), DB_REPLICA_URL: `"${s3.url("quoted")}"` });
      try {
        await upload(server.url, "quoted\n");
        const health = (await (await fetch(`${server.url}/healthz`)).json()) as { replication: { target: string } };
        assert.equal(health.replication.target, s3.url("quoted"));
        assert.match(server.output(), /the replica URL is wrapped in quotes; using s3:\/\/litepaste-test\/quoted/);
      } finally {
        await server.stop();
      }
      assert.ok(!existsSync(path.join(process.cwd(), '"s3:')), "no local folder named after the quoted URL");
      assert.deepEqual(readdirSync(cwd).filter((name) => name.includes("s3")), []);
    } finally {
      await s3.dispose();
    }
  });

  test("a relative path fails at start-up with the accepted forms", async () => {
    for (const url of ["replica", "./data/replica", "s3:/bucket/db"]) {
      const { code, output } = await failCli({ DB_REPLICA_URL: url, DB_PATH: path.join(newDir("relative"), "store.db") });
      assert.equal(code, 1, output);
      assert.match(output, /a directory replica needs an absolute path/);
      assert.match(output, /accepted: s3:\/\/bucket\/path.*backblazeb2\.com.*file:\/\/\/absolute\/dir/);
    }
  });
});
