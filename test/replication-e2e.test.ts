// Replication as an operator meets it, through the real `litepaste` process: upload,
// stop, lose the disk, start again — the pastes are back. With a directory replica and
// with a real S3 server (s3rver). Plus the fail-closed start and the replica commands.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { useFileServer } from "../testkit/file-server.js";
import { failCli, runCli, serveCli } from "../testkit/litepaste-process.js";
import { startS3rver } from "../testkit/s3rver.js";
import { useScratchDir } from "../testkit/scratch.js";
import { survivesLosingTheDisk, uploadBodies } from "../testkit/disk-loss.js";

describe("with a directory replica", () => {
  const dir = useScratchDir("litepaste-e2e-file");

  test("pastes survive losing data/, and the replica is in Litestream's layout", async () => {
    const replica = path.join(dir, "replica");
    await survivesLosingTheDisk({ DB_REPLICA_URL: `file://${replica}` }, path.join(dir, "data"), []);
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
  const s3 = useFileServer(startS3rver);
  const dir = useScratchDir("litepaste-e2e-s3");

  test("pastes survive losing data/", async () => {
    await survivesLosingTheDisk({ ...s3.env, DB_REPLICA_URL: s3.url("paste-db") }, path.join(dir, "data"), ["S3RVER"]);
    const snapshots = runCli(["snapshots", s3.url("paste-db")], s3.env);
    assert.equal(snapshots.status, 0, snapshots.stderr);
    assert.match(snapshots.stdout, /s3\s+[0-9a-f]{16}\s+[0-9a-f]{8}/);
  });

  test("start-up fails closed when the replica has data but cannot be read", async () => {
    const env = { ...s3.env, DB_REPLICA_URL: s3.url("fail-closed") };
    const dbPath = path.join(dir, "fail-closed", "store.db");
    const server = await serveCli({ ...env, DB_PATH: dbPath });
    await uploadBodies(server.url, ["precious\n"]);
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
