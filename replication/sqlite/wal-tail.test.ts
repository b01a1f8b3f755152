import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parseWalHeader, readWalFrames, walFrameSize, WAL_HEADER_SIZE } from "./wal.js";
import { readWalTail, startOfRound, WalDiscontinuityError, type WalPosition } from "./wal-tail.js";
import { openAppDatabase } from "../../testkit/replication-db.js";
import { testDir } from "../../testkit/scratch.js";

const anyRound: WalPosition = { index: 7, header: null, offset: 0, checksum: [0, 0] };
const unlimited = { nextRoundSalt1: null, maxBytes: Infinity };

function setUp(t: { after(fn: () => void): void }) {
  const dir = testDir(t);
  const dbPath = path.join(dir, "db");
  const db = openAppDatabase(dbPath);
  t.after(() => db.close());
  db.exec("CREATE TABLE t (x TEXT)");
  const insert = (n: number, size = 10) => {
    const stmt = db.prepare("INSERT INTO t VALUES (?)");
    db.transaction(() => {
      for (let i = 0; i < n; i++) stmt.run("y".repeat(size));
    })();
  };
  return { dir, db, walPath: `${dbPath}-wal`, insert };
}

test("a round read from its start: the header, then every committed frame, ending on a commit", (t) => {
  const { walPath, insert } = setUp(t);
  insert(3);
  const wal = fs.readFileSync(walPath);
  const segment = readWalTail(walPath, anyRound, unlimited)!;
  assert.equal(segment.from.index, 7);
  assert.equal(segment.from.offset, 0);
  assert.ok(segment.data.subarray(0, WAL_HEADER_SIZE).equals(wal.subarray(0, WAL_HEADER_SIZE)));
  const frames = [...readWalFrames(wal)];
  const lastCommit = frames.findLast((f) => f.commit !== 0)!;
  const end = lastCommit.offset + walFrameSize(parseWalHeader(wal).pageSize);
  assert.equal(segment.to.offset, end);
  assert.ok(segment.data.equals(wal.subarray(0, end)));
  assert.deepEqual(segment.to.checksum, lastCommit.checksum);
  assert.equal(segment.pageCount, lastCommit.commit);
  assert.equal(segment.complete, true);
});

test("continuing from a position returns only what was committed after it, then nothing", (t) => {
  const { walPath, insert } = setUp(t);
  insert(2);
  const first = readWalTail(walPath, anyRound, unlimited)!;
  assert.equal(readWalTail(walPath, first.to, unlimited), null);
  insert(5, 3000);
  const second = readWalTail(walPath, first.to, unlimited)!;
  assert.equal(second.from.offset, first.to.offset);
  const wal = fs.readFileSync(walPath);
  assert.ok(second.data.equals(wal.subarray(first.to.offset, second.to.offset)));
  assert.equal(second.to.offset, wal.length);
  assert.equal(readWalTail(walPath, second.to, unlimited), null);
});

test("frames after the last commit are not shipped; a broken checksum chain ends the WAL", (t) => {
  const { dir, walPath, insert } = setUp(t);
  insert(1);
  const committed = readWalTail(walPath, anyRound, unlimited)!;
  insert(4, 5000); // one transaction of several frames; its commit frame is the last one
  const wal = fs.readFileSync(walPath);
  const frameSize = walFrameSize(parseWalHeader(wal).pageSize);

  const withoutCommit = path.join(dir, "cut-wal");
  fs.writeFileSync(withoutCommit, wal.subarray(0, wal.length - frameSize));
  assert.equal(readWalTail(withoutCommit, committed.to, unlimited), null);

  const corrupt = Buffer.from(wal);
  corrupt[committed.to.offset + 24 + 100]! ^= 0xff; // a byte of the first page after the shipped position
  const corruptPath = path.join(dir, "corrupt-wal");
  fs.writeFileSync(corruptPath, corrupt);
  assert.equal(readWalTail(corruptPath, committed.to, unlimited), null);
  assert.ok(readWalTail(walPath, committed.to, unlimited));
});

test("maxBytes ends a segment at an earlier commit and says more is waiting", (t) => {
  const { walPath, insert } = setUp(t);
  for (let i = 0; i < 10; i++) insert(1, 2000);
  const all = readWalTail(walPath, anyRound, unlimited)!;
  const capped = readWalTail(walPath, anyRound, { nextRoundSalt1: null, maxBytes: all.data.length / 2 })!;
  assert.equal(capped.complete, false);
  assert.ok(capped.data.length <= all.data.length / 2);
  assert.ok(all.data.subarray(0, capped.data.length).equals(capped.data));
  const rest = readWalTail(walPath, capped.to, unlimited)!;
  assert.ok(Buffer.concat([capped.data, rest.data]).equals(all.data));
});

test("a restart we caused (full checkpoint, salt-1 + 1) is the next index; any other restart is lost continuity", (t) => {
  const { db, walPath, insert } = setUp(t);
  insert(3);
  const shipped = readWalTail(walPath, anyRound, unlimited)!;
  const { salt1 } = parseWalHeader(shipped.to.header!);
  const result = db.pragma("wal_checkpoint(PASSIVE)") as Array<{ log: number; checkpointed: number }>;
  assert.equal(result[0]!.log, result[0]!.checkpointed);
  insert(1); // restarts the WAL

  const next = readWalTail(walPath, shipped.to, { nextRoundSalt1: (salt1 + 1) >>> 0, maxBytes: Infinity })!;
  assert.equal(next.from.index, 8);
  assert.equal(next.from.offset, 0);
  assert.equal(parseWalHeader(next.data).salt1, (salt1 + 1) >>> 0);

  // Nothing shipped of the round yet (a snapshot holds all of it): the next round takes its index.
  const untouched = startOfRound(7, shipped.to.header!);
  assert.equal(readWalTail(walPath, untouched, { nextRoundSalt1: (salt1 + 1) >>> 0, maxBytes: Infinity })!.from.index, 7);

  assert.throws(() => readWalTail(walPath, shipped.to, unlimited), WalDiscontinuityError);
  assert.throws(() => readWalTail(walPath, shipped.to, { nextRoundSalt1: (salt1 + 2) >>> 0, maxBytes: Infinity }), /restarted by another connection/);
});

test("a WAL truncated or removed under a shipped position is lost continuity, unless our checkpoint emptied it", (t) => {
  const { db, walPath, insert } = setUp(t);
  insert(2);
  const shipped = readWalTail(walPath, anyRound, unlimited)!;
  db.pragma("wal_checkpoint(TRUNCATE)");
  assert.equal(fs.statSync(walPath).size, 0);
  assert.throws(() => readWalTail(walPath, shipped.to, unlimited), /truncated or removed/);
  const salt1 = (parseWalHeader(shipped.to.header!).salt1 + 1) >>> 0;
  assert.equal(readWalTail(walPath, shipped.to, { nextRoundSalt1: salt1, maxBytes: Infinity }), null);
  // Nothing shipped of a round yet: an empty or missing WAL is just nothing new.
  assert.equal(readWalTail(walPath, anyRound, unlimited), null);
  assert.equal(readWalTail(`${walPath}-missing`, anyRound, unlimited), null);
});
