import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { WriterRecord, writerRecordPathOf } from "./record.js";
import { useScratchDirs } from "../../testkit/scratch.js";

const newDir = useScratchDirs("litepaste-writer-record");
const REPLICA = "file:///replica";

test("writer record: survives a reload with its owner and the last generations, newest last", () => {
  const dbPath = path.join(newDir("db"), "store.db");
  const first = WriterRecord.load(dbPath, REPLICA);
  assert.deepEqual(first.generations, []);
  assert.equal(fs.existsSync(writerRecordPathOf(dbPath)), false, "nothing written before there is something to keep");
  const ids = Array.from({ length: 10 }, (_, i) => i.toString(16).padStart(16, "0"));
  for (const id of ids) first.remember(id);
  first.remember(ids[4]!); // remembered again: moves to the end
  const again = WriterRecord.load(dbPath, REPLICA);
  assert.equal(again.owner, first.owner);
  assert.deepEqual(again.generations, [...ids.slice(2, 4), ...ids.slice(5), ids[4]]);
});

test("writer record: another replica starts with no history but the same owner; a torn file starts afresh", () => {
  const dbPath = path.join(newDir("db"), "store.db");
  const record = WriterRecord.load(dbPath, REPLICA);
  record.remember("00000000000000aa");
  const elsewhere = WriterRecord.load(dbPath, "s3://other/path");
  assert.equal(elsewhere.owner, record.owner);
  assert.deepEqual(elsewhere.generations, []);

  fs.writeFileSync(writerRecordPathOf(dbPath), '{"owner": "00000000');
  const torn = WriterRecord.load(dbPath, REPLICA);
  assert.notEqual(torn.owner, record.owner);
  assert.deepEqual(torn.generations, []);
});
