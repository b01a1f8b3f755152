import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { FileReplicaClient } from "./replica/file/client.js";
import { lz4FrameDecode, lz4FrameEncode } from "./lz4/frame.js";
import { openReplicaClient } from "./replica/url.js";
import type { ReplicaClient } from "./replica/client.js";
import { CountingReplicaClient } from "../testkit/counting-client.js";
import { NoReplicaError, findLatestGeneration, restoreReplica, type RestoreProgress } from "./restore.js";
import { litestreamFixtures } from "../testkit/paths.js";
import { startS3rver, type S3rverHandle } from "../testkit/s3rver.js";
import { useScratchDirs } from "../testkit/scratch.js";

const fixtures = path.join(litestreamFixtures, "replica-v0.3");
const GEN = "0000000000000000";
const genDir = (replica: string, gen = GEN) => path.join(replica, "generations", gen);
const walFile = (replica: string, name: string) => path.join(genDir(replica), "wal", `${name}.wal.lz4`);

const newDir = useScratchDirs("litepaste-restore");
let s3: S3rverHandle;

before(async () => {
  s3 = await startS3rver();
});
after(() => s3.dispose());

function copyFixture(name: string): string {
  const dir = newDir(name);
  fs.cpSync(path.join(fixtures, name, "generations"), path.join(dir, "generations"), { recursive: true });
  return dir;
}

function sqlite(db: string, sql: string): string {
  return execFileSync("sqlite3", [db, sql], { encoding: "utf8" }).trim();
}

/** The reference replay (the fixtures' README): `lz4 -d` each object, let the sqlite3 CLI checkpoint each WAL index. */
function replayWithCli(replica: string, maxIndex: number): string {
  const db = path.join(newDir("replay"), "db");
  execFileSync("lz4", ["-d", "-q", path.join(genDir(replica), "snapshots/00000000.snapshot.lz4"), db]);
  const segments = fs.readdirSync(path.join(genDir(replica), "wal")).sort();
  for (let index = 0; index <= maxIndex; index++) {
    const prefix = `${index.toString(16).padStart(8, "0")}_`;
    const wal = segments.filter((s) => s.startsWith(prefix)).map((s) => execFileSync("lz4", ["-d", "-c", path.join(genDir(replica), "wal", s)]));
    if (wal.length === 0) break;
    fs.writeFileSync(`${db}-wal`, Buffer.concat(wal));
    sqlite(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  }
  return db;
}

function outputPath(): string {
  return path.join(newDir("out"), "store.db");
}

/** Nothing under the output's name, and no temporary file beside it. */
function assertNoOutput(output: string): void {
  assert.deepEqual(fs.readdirSync(path.dirname(output)), []);
}

/** A real client that records which objects were downloaded. */
class RecordingClient extends CountingReplicaClient {
  readonly gets: string[] = [];
  override get(key: string) {
    this.gets.push(key);
    return super.get(key);
  }
}

for (const name of ["restore-ok", "snapshot-only"]) {
  test(`restores the ${name} fixture from a directory, byte for byte`, async () => {
    const output = outputPath();
    const progress: RestoreProgress[] = [];
    const result = await restoreReplica(new FileReplicaClient(path.join(fixtures, name)), {
      outputPath: output, onProgress: (p) => progress.push(p),
    });
    const expected = fs.readFileSync(path.join(fixtures, name, "expected.db"));
    assert.deepEqual(fs.readFileSync(output), expected);
    assert.deepEqual(fs.readdirSync(path.dirname(output)), ["store.db"], "no temp, -wal or -shm left");
    assert.equal(result.generation, GEN);
    assert.equal(result.bytes, expected.byteLength);
    const segments = name === "restore-ok" ? 6 : 0;
    assert.deepEqual(progress.at(-1)?.segments, segments);
    assert.deepEqual(progress.at(-1)?.totalSegments, segments);
    if (name === "restore-ok") {
      assert.equal(sqlite(output, "SELECT x FROM t"), "1\n2\n3\n4\n5");
      // The end of index 2: its segments hold the header + frames up to 0x1038, then one more.
      assert.equal(result.index, 2);
      assert.equal(result.offset, 0x1038 + lz4FrameDecode(fs.readFileSync(walFile(path.join(fixtures, name), "00000002_00001038"))).byteLength);
    }
  });

  test(`restores the ${name} fixture from S3 (s3rver), byte for byte`, async () => {
    const url = s3.url(`fixture-${name}`);
    const client = openReplicaClient(url, s3.env);
    const root = path.join(fixtures, name);
    for (const file of fs.readdirSync(path.join(root, "generations"), { recursive: true, encoding: "utf8" })) {
      const full = path.join(root, "generations", file);
      if (fs.statSync(full).isFile()) await client.put(`generations/${file.split(path.sep).join("/")}`, fs.readFileSync(full));
    }
    const output = outputPath();
    await restoreReplica(client, { outputPath: output, integrityCheck: true });
    assert.deepEqual(fs.readFileSync(output), fs.readFileSync(path.join(root, "expected.db")));
  });
}

test("an index limit restores the state after that WAL index", async () => {
  const replica = path.join(fixtures, "restore-ok");
  for (const index of [0, 1]) {
    const output = outputPath();
    const result = await restoreReplica(new FileReplicaClient(replica), { outputPath: output, index });
    assert.equal(result.index, index);
    assert.equal(sqlite(output, "PRAGMA integrity_check"), "ok");
    assert.equal(sqlite(output, "SELECT x FROM t"), sqlite(replayWithCli(replica, index), "SELECT x FROM t"));
  }
  assert.equal(sqlite(replayWithCli(replica, 0), "SELECT x FROM t"), "1\n2", "the reference replay itself");
});

test("a timestamp restores the state as of that moment, by the objects' mtimes", async () => {
  const replica = copyFixture("restore-ok");
  const t0 = Date.parse("2024-05-01T10:00:00Z");
  const hour = 3_600_000;
  const setTime = (file: string, ms: number) => fs.utimesSync(file, new Date(ms), new Date(ms));
  setTime(path.join(genDir(replica), "snapshots/00000000.snapshot.lz4"), t0);
  for (const segment of fs.readdirSync(path.join(genDir(replica), "wal"))) {
    const index = parseInt(segment.slice(0, 8), 16);
    setTime(path.join(genDir(replica), "wal", segment), t0 + (index + 1) * hour);
  }
  const client = new FileReplicaClient(replica);
  const at = async (ms: number) => {
    const output = outputPath();
    await restoreReplica(client, { outputPath: output, timestamp: new Date(ms) });
    return output;
  };
  const rows = (db: string) => sqlite(db, "SELECT x FROM t");
  assert.equal(rows(await at(t0 + 2 * hour + 60_000)), rows(replayWithCli(replica, 1)));
  assert.equal(rows(await at(t0 + 1 * hour)), rows(replayWithCli(replica, 0)));
  assert.deepEqual(fs.readFileSync(await at(t0 + 30 * 60_000)),
    execFileSync("lz4", ["-d", "-c", path.join(genDir(replica), "snapshots/00000000.snapshot.lz4")]), "the snapshot alone");
  await assert.rejects(at(t0 - 1000), /holds nothing at or before 2024-05-01T09:59:59.000Z/);
});

test("the latest generation is the one with the newest object, unless one is named", async () => {
  const replica = copyFixture("restore-ok");
  const other = "1111111111111111";
  fs.cpSync(genDir(path.join(fixtures, "snapshot-only")), genDir(replica, other), { recursive: true });
  const setGenerationTime = (gen: string, ms: number) => {
    for (const file of fs.readdirSync(genDir(replica, gen), { recursive: true, encoding: "utf8" })) {
      fs.utimesSync(path.join(genDir(replica, gen), file), new Date(ms), new Date(ms));
    }
  };
  const client = new FileReplicaClient(replica);
  const expected = (name: string) => fs.readFileSync(path.join(fixtures, name, "expected.db"));

  setGenerationTime(GEN, Date.parse("2024-01-01T00:00:00Z"));
  setGenerationTime(other, Date.parse("2024-01-02T00:00:00Z"));
  assert.equal(await findLatestGeneration(client), other);
  let output = outputPath();
  assert.equal((await restoreReplica(client, { outputPath: output })).generation, other);
  assert.deepEqual(fs.readFileSync(output), expected("snapshot-only"));

  output = outputPath();
  await restoreReplica(client, { outputPath: output, generation: GEN });
  assert.deepEqual(fs.readFileSync(output), expected("restore-ok"));

  setGenerationTime(GEN, Date.parse("2024-01-03T00:00:00Z"));
  assert.equal(await findLatestGeneration(client), GEN);
  await assert.rejects(restoreReplica(client, { outputPath: outputPath(), generation: "2222222222222222" }),
    /generation 2222222222222222 not found .* \(it has 0000000000000000, 1111111111111111\)/);
});

test("a missing WAL index is found from the names, before anything is downloaded", async () => {
  const replica = copyFixture("restore-ok");
  fs.rmSync(walFile(replica, "00000001_00000000"));
  const client = new RecordingClient(new FileReplicaClient(replica));
  const output = outputPath();
  await assert.rejects(restoreReplica(client, { outputPath: output }),
    /WAL gap in generation 0000000000000000: generations\/0000000000000000\/wal\/00000001_00000000\.wal\.lz4 is missing/);
  assert.deepEqual(client.gets, []);
  assertNoOutput(output);
});

test("a missing segment in the middle of an index is named", async () => {
  const replica = copyFixture("restore-ok");
  fs.rmSync(walFile(replica, "00000000_00002050"));
  const output = outputPath();
  await assert.rejects(restoreReplica(new FileReplicaClient(replica), { outputPath: output }),
    /generations\/0000000000000000\/wal\/00000000_00002050\.wal\.lz4 is missing \(the next segment present is generations\/0000000000000000\/wal\/00000000_00003068\.wal\.lz4\)/);
  assertNoOutput(output);
});

test("a corrupt LZ4 object is an error naming its key, and leaves no output", async () => {
  const cases: [(size: number) => number, RegExp][] = [
    // Depending on the byte, the LZ4 decoder or the WAL checksum chain notices first.
    [(size) => Math.floor(size / 2), /(LZ4|fails verification)/],
    [(size) => size - 1, /LZ4 content checksum mismatch/],
  ];
  for (const [position, problem] of cases) {
    const replica = copyFixture("restore-ok");
    const file = walFile(replica, "00000000_00002050");
    const bytes = fs.readFileSync(file);
    const at = position(bytes.byteLength);
    bytes[at] = bytes[at]! ^ 0x55;
    fs.writeFileSync(file, bytes);
    const output = outputPath();
    await assert.rejects(restoreReplica(new FileReplicaClient(replica), { outputPath: output }), (err: Error) => {
      assert.match(err.message, /^generations\/0000000000000000\/wal\/00000000_00002050\.wal\.lz4: /);
      assert.match(err.message, problem);
      return true;
    });
    assertNoOutput(output);
  }
});

test("a WAL frame that fails verification is an error naming its segment", async () => {
  const replica = copyFixture("restore-ok");
  const file = walFile(replica, "00000002_00001038");
  const wal = lz4FrameDecode(fs.readFileSync(file));
  wal[24 + 100] = wal[24 + 100]! ^ 1; // inside the first frame's page
  fs.writeFileSync(file, lz4FrameEncode(wal));
  const output = outputPath();
  await assert.rejects(restoreReplica(new FileReplicaClient(replica), { outputPath: output }),
    /generations\/0000000000000000\/wal\/00000002_00001038\.wal\.lz4: the WAL frame at offset 4152 fails verification/);
  assertNoOutput(output);
});

test("a segment that ends inside a transaction is an error naming it", async () => {
  const replica = copyFixture("restore-ok");
  const file = walFile(replica, "00000000_00000000");
  const wal = lz4FrameDecode(fs.readFileSync(file));
  // The header and the first frame (page 1, not a commit frame) only.
  fs.writeFileSync(file, lz4FrameEncode(wal.subarray(0, 32 + 24 + 4096)));
  const output = outputPath();
  await assert.rejects(restoreReplica(new FileReplicaClient(replica), { outputPath: output }),
    /generations\/0000000000000000\/wal\/00000000_00000000\.wal\.lz4: ends with 1 uncommitted WAL frame/);
  assertNoOutput(output);
});

test("a database that SQLite's check rejects is not put in place", async () => {
  const replica = copyFixture("snapshot-only");
  const db = Buffer.from(fs.readFileSync(path.join(fixtures, "restore-ok/expected.db")));
  db.fill(0xee, 4096 + 8, 4096 + 200); // scribble over page 2's cell pointers and cells
  fs.writeFileSync(path.join(genDir(replica), "snapshots/00000000.snapshot.lz4"), lz4FrameEncode(db));
  const output = outputPath();
  await assert.rejects(restoreReplica(new FileReplicaClient(replica), { outputPath: output }),
    /the restored database fails its check: /);
  assertNoOutput(output);
});

test("an empty replica is a NoReplicaError, in a directory and in S3", async () => {
  for (const client of [new FileReplicaClient(newDir("empty")), openReplicaClient(s3.url("empty-replica"), s3.env)]) {
    const output = outputPath();
    await assert.rejects(restoreReplica(client, { outputPath: output }), (err: unknown) => err instanceof NoReplicaError);
    assertNoOutput(output);
  }
});

test("an existing output is kept unless overwrite is asked for; overwriting drops a stale -wal", async () => {
  const client = new FileReplicaClient(path.join(fixtures, "restore-ok"));
  const output = outputPath();
  fs.writeFileSync(output, "precious");
  await assert.rejects(restoreReplica(client, { outputPath: output }), /store\.db already exists/);
  assert.equal(fs.readFileSync(output, "utf8"), "precious");
  fs.writeFileSync(`${output}-wal`, "stale");
  await restoreReplica(client, { outputPath: output, overwrite: true });
  assert.deepEqual(fs.readFileSync(output), fs.readFileSync(path.join(fixtures, "restore-ok/expected.db")));
  assert.equal(fs.existsSync(`${output}-wal`), false);
});

test("S3 failures are clear: missing bucket, rejected credentials, unreachable endpoint", async () => {
  const cases: [ReplicaClient, RegExp][] = [
    [openReplicaClient(`s3://no-such-bucket/db?endpoint=${s3.endpoint}`, s3.env), /S3 bucket "no-such-bucket" does not exist/],
    [openReplicaClient(s3.url("db"), { LITESTREAM_ACCESS_KEY_ID: "WRONG", LITESTREAM_SECRET_ACCESS_KEY: "x" }), /S3 rejected the credentials/],
  ];
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const closedPort = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  cases.push([openReplicaClient(`s3://bucket/db?endpoint=http://127.0.0.1:${closedPort}`, s3.env), /cannot reach S3 endpoint http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/]);
  for (const [client, pattern] of cases) {
    const output = outputPath();
    await assert.rejects(restoreReplica(client, { outputPath: output }), pattern);
    assertNoOutput(output);
  }
});

test("what a real SQLite writes restores: a snapshot plus the WAL, both compressed by the lz4 CLI", async () => {
  const work = newDir("sqlite");
  const primary = path.join(work, "primary.db");
  const setup = new Database(primary);
  setup.pragma("journal_mode = WAL");
  setup.exec("CREATE TABLE paste (id INTEGER PRIMARY KEY, body TEXT)");
  setup.close(); // checkpoints and removes the WAL: the file alone is the snapshot
  const snapshot = fs.readFileSync(primary);

  const db = new Database(primary);
  db.pragma("wal_autocheckpoint = 0");
  const insert = db.prepare("INSERT INTO paste (body) VALUES (?)");
  for (let i = 0; i < 50; i++) insert.run(`paste ${i} `.repeat(1 + i * 40));
  db.transaction(() => {
    for (let i = 0; i < 20; i++) insert.run("x".repeat(10_000));
  })();
  db.exec("DELETE FROM paste WHERE id % 3 = 0");
  const wal = fs.readFileSync(`${primary}-wal`);
  const expectedRows = db.prepare("SELECT id, body FROM paste ORDER BY id").all();
  db.close();

  const replica = newDir("sqlite-replica");
  fs.mkdirSync(path.join(genDir(replica), "snapshots"), { recursive: true });
  fs.mkdirSync(path.join(genDir(replica), "wal"), { recursive: true });
  fs.writeFileSync(path.join(work, "snapshot"), snapshot);
  fs.writeFileSync(path.join(work, "wal"), wal);
  execFileSync("lz4", ["-q", path.join(work, "snapshot"), path.join(genDir(replica), "snapshots/00000000.snapshot.lz4")]);
  execFileSync("lz4", ["-q", "-BD", path.join(work, "wal"), walFile(replica, "00000000_00000000")]);

  const output = outputPath();
  await restoreReplica(new FileReplicaClient(replica), { outputPath: output, integrityCheck: true });
  const restored = new Database(output, { readonly: true });
  assert.deepEqual(restored.prepare("SELECT id, body FROM paste ORDER BY id").all(), expectedRows);
  restored.close();
  assert.deepEqual(fs.readFileSync(output), fs.readFileSync(primary), "the primary after its final checkpoint");
});

test("a WAL round larger than a write-out batch, with a commit that shrinks the database, restores to what SQLite's checkpoint makes of it", async () => {
  const work = newDir("sqlite-large");
  const primary = path.join(work, "primary.db");
  const setup = new Database(primary);
  setup.pragma("journal_mode = WAL");
  setup.exec("CREATE TABLE paste (id INTEGER PRIMARY KEY, body TEXT)");
  setup.close();
  const snapshot = fs.readFileSync(primary);

  const db = new Database(primary);
  db.pragma("wal_autocheckpoint = 0");
  const insert = db.prepare("INSERT INTO paste (body) VALUES (?)");
  const fill = (rows: number, size: number) => db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(`${i} `.padEnd(size, String.fromCharCode(97 + (i % 26))));
  })();
  // More than the 32 MiB batch in one round, some of it in one transaction of ~20 MiB, so
  // that pages are written out mid-round and mid-transaction.
  for (let t = 0; t < 4; t++) fill(500, 10_000);
  fill(2_000, 10_000);
  db.exec("DELETE FROM paste WHERE id % 10 != 0");
  db.exec("VACUUM"); // rewrites the database through the WAL; its commit shrinks it
  fill(300, 3_000);
  const wal = fs.readFileSync(`${primary}-wal`);
  assert.ok(wal.byteLength > 40 << 20, `the round holds ${wal.byteLength} bytes of WAL`);
  const expectedRows = db.prepare("SELECT id, body FROM paste ORDER BY id").all();
  db.close();

  const replica = newDir("sqlite-large-replica");
  fs.mkdirSync(path.join(genDir(replica), "snapshots"), { recursive: true });
  fs.mkdirSync(path.join(genDir(replica), "wal"), { recursive: true });
  fs.writeFileSync(path.join(work, "snapshot"), snapshot);
  fs.writeFileSync(path.join(work, "wal"), wal);
  execFileSync("lz4", ["-q", path.join(work, "snapshot"), path.join(genDir(replica), "snapshots/00000000.snapshot.lz4")]);
  execFileSync("lz4", ["-q", path.join(work, "wal"), walFile(replica, "00000000_00000000")]);

  const output = outputPath();
  await restoreReplica(new FileReplicaClient(replica), { outputPath: output, integrityCheck: true });
  const restored = new Database(output, { readonly: true });
  assert.deepEqual(restored.prepare("SELECT id, body FROM paste ORDER BY id").all(), expectedRows);
  restored.close();
  assert.deepEqual(fs.readFileSync(output), fs.readFileSync(primary), "the primary after its final checkpoint");
});
