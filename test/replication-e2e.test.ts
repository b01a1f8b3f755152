// Replication as an operator meets it, through the real `litepaste` process: upload,
// stop, lose the disk, start again — the pastes are back. With a directory replica and
// with a real S3 server (s3rver). Plus the fail-closed start and the replica commands.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { failCli, runCli, serveCli } from "../testkit/litepaste-process.js";
import { startS3rver, type S3rverHandle } from "../testkit/s3rver.js";
import { freshDir } from "../testkit/scratch.js";

async function upload(url: string, bodies: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const body of bodies) {
    const res = await fetch(`${url}/`, { method: "PUT", body });
    assert.equal(res.status, 200);
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

async function assertServed(url: string, ids: string[], bodies: string[]) {
  for (const [i, id] of ids.entries()) {
    const res = await fetch(`${url}/${id}`);
    assert.equal(res.status, 200, `paste ${id}`);
    assert.equal(await res.text(), bodies[i]);
  }
}

/** Upload, stop cleanly, delete data/, start again from the replica alone. */
async function survivesLosingTheDisk(env: NodeJS.ProcessEnv, dataDir: string) {
  const dbPath = path.join(dataDir, "store.db");
  const bodies = ["first paste\n", "second paste\r\n", "third: \u00e9\u00e8 \u2603\n"];
  const first = await serveCli({ ...env, DB_PATH: dbPath });
  const ids = await upload(first.url, bodies);
  assert.equal(await first.stop(), 0, first.output());

  rmSync(dataDir, { recursive: true, force: true });
  const second = await serveCli({ ...env, DB_PATH: dbPath });
  try {
    assert.match(second.output(), /restored the database from the replica/);
    await assertServed(second.url, ids, bodies);
    const health = (await (await fetch(`${second.url}/healthz`)).json()) as { status: string; replication: { target: string } };
    assert.equal(health.status, "ok");
    assert.ok(!JSON.stringify(health).includes("S3RVER"), "no credentials in /healthz");
    // Writes after a restore replicate too.
    const more = await upload(second.url, ["after the restore\n"]);
    assert.equal(await second.stop(), 0, second.output());
    rmSync(dataDir, { recursive: true, force: true });
    const third = await serveCli({ ...env, DB_PATH: dbPath });
    await assertServed(third.url, [...ids, ...more], [...bodies, "after the restore\n"]);
    assert.equal(await third.stop(), 0);
  } finally {
    second.child.kill("SIGKILL");
  }
  return ids;
}

describe("with a directory replica", () => {
  let dir: string;
  before(() => {
    dir = freshDir("litepaste-e2e-file");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("pastes survive losing data/, and the replica is in Litestream's layout", async () => {
    const replica = path.join(dir, "replica");
    await survivesLosingTheDisk({ DB_REPLICA_URL: `file://${replica}` }, path.join(dir, "data"));
    const generations = readdirSync(path.join(replica, "generations"));
    assert.ok(generations.length >= 1);
    for (const g of generations) assert.match(g, /^[0-9a-f]{16}$/);
    const listing = runCli(["generations", `file://${replica}`]);
    assert.equal(listing.status, 0, listing.stderr);
    assert.match(listing.stdout, /generation/);
    for (const g of generations) assert.ok(listing.stdout.includes(g), g);
  });
});

describe("with S3 (s3rver)", () => {
  let s3: S3rverHandle;
  let dir: string;
  before(async () => {
    s3 = await startS3rver();
    dir = freshDir("litepaste-e2e-s3");
  });
  after(async () => {
    await s3?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test("pastes survive losing data/", async () => {
    await survivesLosingTheDisk({ ...s3.env, DB_REPLICA_URL: s3.url("paste-db") }, path.join(dir, "data"));
    const snapshots = runCli(["snapshots", s3.url("paste-db")], s3.env);
    assert.equal(snapshots.status, 0, snapshots.stderr);
    assert.match(snapshots.stdout, /s3\s+[0-9a-f]{16}\s+[0-9a-f]{8}/);
  });

  test("start-up fails closed when the replica has data but cannot be read", async () => {
    const env = { ...s3.env, DB_REPLICA_URL: s3.url("fail-closed") };
    const dbPath = path.join(dir, "fail-closed", "store.db");
    const server = await serveCli({ ...env, DB_PATH: dbPath });
    await upload(server.url, ["precious\n"]);
    assert.equal(await server.stop(), 0);
    rmSync(path.dirname(dbPath), { recursive: true, force: true });

    await s3.stop();
    try {
      const failed = await failCli({ ...env, DB_PATH: dbPath });
      assert.notEqual(failed.code, 0);
      assert.match(failed.output, /could not start/);
      assert.match(failed.output, /cannot reach|ECONNREFUSED|connect/i);
      assert.ok(!existsSync(dbPath), "no empty database was created over the replica");
    } finally {
      await s3.restart();
    }
    const recovered = await serveCli({ ...env, DB_PATH: dbPath });
    assert.match(recovered.output(), /restored the database from the replica/);
    assert.equal(await recovered.stop(), 0);
  });

  test("a missing bucket is a clear start-up error", async () => {
    const failed = await failCli({
      ...s3.env,
      DB_REPLICA_URL: `s3://no-such-bucket/db?endpoint=${s3.endpoint}`,
      DB_PATH: path.join(dir, "nobucket", "store.db"),
    });
    assert.notEqual(failed.code, 0);
    assert.match(failed.output, /bucket .*no-such-bucket.* does not exist|no-such-bucket/);
  });
});
