import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomically, writeFileDurably } from "./durable-file.js";
import { useScratchDirs } from "../testkit/scratch.js";

const newDir = useScratchDirs("litepaste-durable-file");

test("a record replaces the old one whole and leaves no temporary file", () => {
  const dir = newDir("record");
  const file = path.join(dir, "record.json");
  writeFileDurably(file, "old\n");
  writeFileDurably(file, "new\n");
  assert.equal(fs.readFileSync(file, "utf8"), "new\n");
  assert.deepEqual(fs.readdirSync(dir), ["record.json"]);
});

test("a streamed write appears whole under its name", async () => {
  const dir = newDir("stream");
  const file = path.join(dir, "out.bin");
  await writeFileAtomically(file, async (handle) => {
    await handle.write(Buffer.from("hello "));
    await handle.write(Buffer.from("world"));
  });
  assert.equal(fs.readFileSync(file, "utf8"), "hello world");
  assert.deepEqual(fs.readdirSync(dir), ["out.bin"]);
});

test("a failed write or a failed check leaves the old file and nothing else", async () => {
  const dir = newDir("fail");
  const file = path.join(dir, "out.bin");
  fs.writeFileSync(file, "old");
  await assert.rejects(writeFileAtomically(file, async (handle) => {
    await handle.write(Buffer.from("half"));
    throw new Error("source broke");
  }), /source broke/);
  await assert.rejects(writeFileAtomically(file, async (handle) => {
    await handle.write(Buffer.from("whole but bad"));
  }, {
    beforeRename: (temp) => {
      fs.writeFileSync(`${temp}-journal`, "made by the check");
      throw new Error("check failed");
    },
    leftovers: (temp) => [`${temp}-journal`],
  }), /check failed/);
  assert.equal(fs.readFileSync(file, "utf8"), "old");
  assert.deepEqual(fs.readdirSync(dir), ["out.bin"]);
});
