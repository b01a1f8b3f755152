import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { runCommand } from "./command.js";
import { COMMANDS } from "./commands.js";
import { openReplicaClient } from "../replication/replica/url.js";
import { litestreamFixtures } from "../testkit/paths.js";
import { startAzurite } from "../testkit/azurite.js";
import { startS3rver, type S3rverHandle } from "../testkit/s3rver.js";
import { useScratchDirs } from "../testkit/scratch.js";

const fixture = path.join(litestreamFixtures, "replica-v0.3/restore-ok");
const expectedDb = fs.readFileSync(path.join(fixture, "expected.db"));
const newDir = useScratchDirs("litepaste-cli");
let s3: S3rverHandle;

before(async () => {
  s3 = await startS3rver();
});
after(() => s3.dispose());

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

type ReplicaVerb = "restore" | "snapshots" | "generations" | "wal";

async function run(verb: ReplicaVerb, args: string[], opts: { isTTY?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCommand(verb, await COMMANDS[verb]!.load(), args, { stdout, stderr, isTTY: opts.isTTY ?? false, env: opts.env ?? {} });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The fixture's objects with known mtimes: each one a minute after the previous, in key order. */
const base = Date.parse("2024-05-01T10:00:00Z");
function fixtureCopy(): { dir: string; objects: { key: string; size: number; time: Date }[] } {
  const dir = newDir("replica");
  fs.cpSync(path.join(fixture, "generations"), path.join(dir, "generations"), { recursive: true });
  const keys = fs.readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".lz4"))
    .map((f) => f.split(path.sep).join("/"))
    .sort();
  const objects = keys.map((key, i) => {
    const time = new Date(base + i * 60_000);
    fs.utimesSync(path.join(dir, key), time, time);
    return { key, size: fs.statSync(path.join(dir, key)).size, time };
  });
  return { dir, objects };
}

/** Rows of a tabwriter table, checking that every column starts at the same position on every line. */
function tableRows(text: string): string[][] {
  const lines = text.trimEnd().split("\n");
  const starts = (line: string) => [...line.matchAll(/(?:^|(?<= {2}))\S/g)].map((m) => m.index);
  const header = starts(lines[0]!);
  for (const line of lines) assert.deepEqual(starts(line), header, `aligned: ${JSON.stringify(line)}`);
  return lines.map((line) => line.trim().split(/ {2,}/));
}

const iso = (d: Date) => d.toISOString().replace(".000Z", "Z");
const hex8 = (s: string) => s.padStart(8, "0");

test("snapshots, generations and wal list a directory replica's objects", async () => {
  const { dir, objects } = fixtureCopy();
  const newest = (list: typeof objects) => [...list].sort((a, b) => b.time.getTime() - a.time.getTime());
  const snapshots = objects.filter((o) => o.key.includes("/snapshots/"));
  const wal = objects.filter((o) => o.key.includes("/wal/"));

  const snap = await run("snapshots", [dir]);
  assert.equal(snap.code, 0, snap.stderr);
  assert.deepEqual(tableRows(snap.stdout), [
    ["replica", "generation", "index", "size", "created"],
    ...newest(snapshots).map((o) => ["file", "0000000000000000", hex8(path.basename(o.key).slice(0, 8)), String(o.size), iso(o.time)]),
  ]);

  const walOut = await run("wal", [`file://${dir}`]);
  assert.equal(walOut.code, 0, walOut.stderr);
  assert.deepEqual(tableRows(walOut.stdout), [
    ["replica", "generation", "index", "offset", "size", "created"],
    ...newest(wal).map((o) => {
      const [index, offset] = path.basename(o.key, ".wal.lz4").split("_");
      return ["file", "0000000000000000", index!, offset!, String(o.size), iso(o.time)];
    }),
  ]);
  assert.equal(tableRows(walOut.stdout).length, 7);

  const gens = await run("generations", [dir]);
  assert.equal(gens.code, 0, gens.stderr);
  assert.deepEqual(tableRows(gens.stdout), [
    ["name", "generation", "lag", "start", "end"],
    ["file", "0000000000000000", "-", iso(objects[0]!.time), iso(objects.at(-1)!.time)],
  ]);

  const filtered = await run("wal", ["-generation", "1111111111111111", dir]);
  assert.deepEqual(tableRows(filtered.stdout), [["replica", "generation", "index", "offset", "size", "created"]]);
});

test("the listings read S3 too", async () => {
  const url = s3.url("cli-listing");
  const client = openReplicaClient(url, s3.env);
  const started = Date.now() - 2000;
  const { objects } = fixtureCopy();
  for (const o of objects) await client.put(o.key, fs.readFileSync(path.join(fixture, o.key)));

  const snap = await run("snapshots", [url], { env: s3.env });
  assert.equal(snap.code, 0, snap.stderr);
  const rows = tableRows(snap.stdout);
  assert.equal(rows.length, 2);
  const [replica, generation, index, size, created] = rows[1]!;
  assert.deepEqual([replica, generation, index, size], ["s3", "0000000000000000", "00000000", String(objects[0]!.size)]);
  const createdMs = Date.parse(created!);
  assert.ok(createdMs >= started && createdMs <= Date.now() + 2000, created);

  const wal = await run("wal", [url], { env: s3.env });
  const walRows = tableRows(wal.stdout).slice(1);
  const expected = objects.filter((o) => o.key.includes("/wal/")).map((o) => {
    const [i, off] = path.basename(o.key, ".wal.lz4").split("_");
    return ["s3", "0000000000000000", i!, off!, String(o.size)].join(" ");
  }).sort();
  assert.deepEqual(walRows.map((r) => r.slice(0, 5).join(" ")).sort(), expected);
});

test("the listings and restore take the other replica types too (abs:// on Azurite)", async (t) => {
  const azurite = await startAzurite();
  t.after(() => azurite.dispose());
  const url = azurite.url("cli-listing");
  const client = openReplicaClient(url, azurite.env);
  const { objects } = fixtureCopy();
  for (const o of objects) await client.put(o.key, fs.readFileSync(path.join(fixture, o.key)));

  const generations = await run("generations", [url], { env: azurite.env });
  assert.equal(generations.code, 0, generations.stderr);
  assert.deepEqual(tableRows(generations.stdout).slice(1).map((r) => r.slice(0, 2)), [["abs", "0000000000000000"]]);
  const output = path.join(newDir("restored"), "db");
  const restored = await run("restore", ["-o", output, url], { env: azurite.env });
  assert.equal(restored.code, 0, restored.stderr);
  assert.ok(fs.readFileSync(output).equals(expectedDb));
});

test("restore writes the database and one summary line off a terminal", async () => {
  const output = path.join(newDir("out"), "nested", "store.db");
  const result = await run("restore", ["-o", output, fixture]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(fs.readFileSync(output), expectedDb);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /^restored .*store\.db \(8192 bytes\) from file:\/\/.*restore-ok: generation 0000000000000000, index 00000002, offset [0-9a-f]{8}\n$/);
});

test("restore shows progress on a terminal", async () => {
  const output = path.join(newDir("out"), "store.db");
  const result = await run("restore", [`--o=${output}`, "-integrity-check", fixture], { isTTY: true });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stderr.startsWith("\r\x1b[Krestoring: "), "rewrites the line: carriage return, erase to end of line");
  const text = result.stderr.replaceAll("\x1b[K", "");
  assert.match(text, /\rrestoring: [\d.]+ KiB, 0\/6 WAL segments/);
  assert.match(text, /\rrestoring: [\d.]+ KiB, 6\/6 WAL segments\n/);
  assert.match(result.stderr, /\nrestored /);
});

test("restore -index (hex) and -timestamp pick the restore point", async () => {
  const output = path.join(newDir("out"), "store.db");
  assert.equal((await run("restore", ["-o", output, "-index", "0", fixture])).code, 0);
  assert.equal(execFileSync("sqlite3", [output, "SELECT x FROM t"], { encoding: "utf8" }), "1\n2\n");

  const { dir, objects } = fixtureCopy();
  // Objects sort as snapshot, wal/00000000_*, 00000001_*, 00000002_*: stop before index 1.
  const lastOfIndex0 = objects.findLast((o) => o.key.includes("/wal/00000000_"))!;
  const atTime = path.join(newDir("out"), "store.db");
  const result = await run("restore", ["-o", atTime, "-timestamp", iso(lastOfIndex0.time), dir]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(execFileSync("sqlite3", [atTime, "SELECT x FROM t"], { encoding: "utf8" }), "1\n2\n");
});

test("restore -if-db-not-exists and -if-replica-exists skip quietly; without them it is an error", async () => {
  const output = path.join(newDir("out"), "store.db");
  fs.writeFileSync(output, "keep me");
  assert.deepEqual(await run("restore", ["-if-db-not-exists", "-o", output, fixture]),
    { code: 0, stdout: "database already exists, skipping\n", stderr: "" });
  const exists = await run("restore", ["-o", output, fixture]);
  assert.equal(exists.code, 1);
  assert.match(exists.stderr, /^litepaste restore: .*store\.db already exists/);
  assert.equal(fs.readFileSync(output, "utf8"), "keep me");

  const empty = newDir("empty");
  const fresh = path.join(newDir("out"), "store.db");
  assert.deepEqual(await run("restore", ["-if-replica-exists", "-o", fresh, empty]),
    { code: 0, stdout: "no matching backups found, skipping\n", stderr: "" });
  const none = await run("restore", ["-o", fresh, empty]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^litepaste restore: no matching backups found/);
  assert.equal(fs.existsSync(fresh), false);

  const s3none = await run("restore", ["-if-replica-exists", "-o", fresh, s3.url("nothing-here")], { env: s3.env });
  assert.deepEqual(s3none, { code: 0, stdout: "no matching backups found, skipping\n", stderr: "" });
});

test("restore failures exit 1 with the message, and no secret", async () => {
  const output = path.join(newDir("out"), "store.db");
  const result = await run("restore", ["-o", output, s3.url("db")], {
    env: { LITESTREAM_ACCESS_KEY_ID: "WRONG", LITESTREAM_SECRET_ACCESS_KEY: "hush-hush-secret" },
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^litepaste restore: S3 rejected the credentials/);
  assert.ok(!result.stderr.includes("hush-hush-secret"));
  assert.equal(fs.existsSync(output), false);
});

test("bad usage exits 2 with a clear message and the usage", async () => {
  const cases: [ReplicaVerb, string[], RegExp][] = [
    ["restore", ["-bogus", fixture], /flag provided but not defined: -bogus/],
    ["restore", ["-o"], /flag needs an argument: -o/],
    ["restore", [], /replica URL required/],
    ["restore", [fixture, "-o", "x.db"], /too many arguments: -o x\.db \(flags go before the URL\)/],
    ["restore", ["-index", "xyz", fixture], /invalid -index "xyz"/],
    ["restore", ["-timestamp", "yesterday", fixture], /invalid -timestamp "yesterday"/],
    ["restore", ["-generation", "nope", fixture], /invalid -generation "nope"/],
    ["restore", ["-if-db-not-exists=maybe", fixture], /invalid boolean value "maybe"/],
    ["snapshots", ["gs://bucket/db"], /invalid replica URL "gs:\/\/bucket\/db": unsupported scheme "gs"/],
    ["wal", ["-generation"], /flag needs an argument: -generation/],
    ["generations", ["-o", "x", fixture], /flag provided but not defined: -o/],
  ];
  for (const [verb, args, pattern] of cases) {
    const result = await run(verb, args);
    assert.equal(result.code, 2, `${verb} ${args.join(" ")}`);
    assert.match(result.stderr, new RegExp(`^litepaste ${verb}: ${pattern.source}`));
    assert.match(result.stderr, new RegExp(`Usage: litepaste ${verb}`));
    assert.equal(result.stdout, "");
  }
});

test("-h and --help print each verb's usage", async () => {
  for (const verb of ["restore", "snapshots", "generations", "wal"] as const) {
    for (const flag of ["-h", "--help"]) {
      const result = await run(verb, [flag]);
      assert.equal(result.code, 0);
      assert.match(result.stdout, new RegExp(`^Usage: litepaste ${verb}`));
      assert.match(result.stdout, /s3:\/\/bucket\/path/);
    }
  }
  assert.match((await run("restore", ["-h"])).stdout, /-if-replica-exists/);
});
