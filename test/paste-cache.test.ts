// The paste cache on the real `litepaste` process: a cached answer is byte for byte the
// answer the store gives (cache off), a hit does not read the store, and an unknown id is
// never remembered (a paste stored under it later is served at once).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import { serveCli, type ServedProcess } from "../testkit/litepaste-process.js";
import { rawExchange } from "../testkit/raw-http.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { HANG_TIMEOUT_MS } from "../testkit/wait.js";

const newDir = useScratchDirs("litepaste-paste-cache");

interface Served {
  readonly server: ServedProcess;
  readonly dbPath: string;
}

let cached: Served;
let uncached: Served;

async function serve(cacheMiB: string): Promise<Served> {
  const dbPath = path.join(newDir(`cache-${cacheMiB}`), "store.db");
  return { server: await serveCli({ DB_PATH: dbPath, PASTE_CACHE_MIB: cacheMiB }), dbPath };
}

before(async () => {
  [cached, uncached] = await Promise.all([serve("4"), serve("0")]);
});
after(async () => {
  await Promise.all([cached.server.stop(), uncached.server.stop()]);
});

/** The whole answer as sent, with the Date header (the only field allowed to differ) blanked. */
async function answer(server: ServedProcess, method: "GET" | "HEAD", target: string, extra = ""): Promise<Buffer> {
  const port = Number(new URL(server.url).port);
  const request = Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`);
  const outcome = await rawExchange(port, request, { head: method === "HEAD", timeoutMs: HANG_TIMEOUT_MS });
  assert.equal(outcome.kind, "response");
  if (outcome.kind !== "response") throw new Error("unreachable");
  return Buffer.from(outcome.bytes.toString("latin1").replace(/\r\ndate: [^\r]*/i, "\r\ndate: -"), "latin1");
}

/** The same row in both databases, written as another program would (LogPaste's schema). */
function insertRow(dbPath: string, id: string, contents: Buffer): void {
  const db = new Database(dbPath);
  try {
    db.prepare("INSERT INTO entries (id, creation_time, contents) VALUES (?, '2024-01-01T00:00:00Z', CAST(? AS TEXT))").run(id, contents);
  } finally {
    db.close();
  }
}

function deleteRow(dbPath: string, id: string): void {
  const db = new Database(dbPath);
  try {
    db.prepare("DELETE FROM entries WHERE id = ?").run(id);
  } finally {
    db.close();
  }
}

test("cached answers (GET, HEAD, 304, /<id>/name) are byte for byte the uncached ones", async () => {
  const contents = Buffer.concat([Buffer.from("line one\nÜnïcode\n"), Buffer.from([0, 0xff, 0xfe]), Buffer.alloc(3000, "x")]);
  for (const { dbPath } of [cached, uncached]) insertRow(dbPath, "Cmp12345", contents);
  const requests: Array<[method: "GET" | "HEAD", target: string, extra?: string]> = [
    ["GET", "/Cmp12345"],
    ["GET", "/Cmp12345"],
    ["HEAD", "/Cmp12345"],
    ["GET", "/Cmp12345/log.txt"],
    ["GET", "/Cmp12345", 'If-None-Match: "Cmp12345"\r\n'],
    ["GET", "/Cmp12345", 'If-None-Match: "other"\r\n'],
  ];
  for (const [method, target, extra] of requests) {
    const a = await answer(cached.server, method, target, extra);
    const b = await answer(uncached.server, method, target, extra);
    assert.equal(a.toString("latin1"), b.toString("latin1"), `${method} ${target} ${extra ?? ""}`);
    assert.ok(a.equals(b));
  }
  const get = (await answer(cached.server, "GET", "/Cmp12345")).toString("latin1");
  assert.match(get, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(get.includes(`\r\ncontent-length: ${contents.length}\r\n`), "the length");
  assert.match(get, /\r\ncontent-type: text\/plain; charset=UTF-8\r\n/);
  assert.ok(Buffer.from(get, "latin1").subarray(-contents.length).equals(contents), "the exact bytes");
});

test("a hit does not read the store: with the row gone the cached server still answers, the uncached one does not", async () => {
  for (const { dbPath } of [cached, uncached]) insertRow(dbPath, "Gone1234", Buffer.from("soon deleted"));
  for (const { server } of [cached, uncached]) assert.equal((await fetch(`${server.url}/Gone1234`)).status, 200);
  for (const { dbPath } of [cached, uncached]) deleteRow(dbPath, "Gone1234");
  const hit = await fetch(`${cached.server.url}/Gone1234`);
  assert.equal(hit.status, 200);
  assert.equal(await hit.text(), "soon deleted");
  assert.equal((await fetch(`${uncached.server.url}/Gone1234`)).status, 404);
});

test("not-found is not cached: a paste stored after a miss is served at once", async () => {
  assert.equal((await fetch(`${cached.server.url}/Late1234`)).status, 404);
  insertRow(cached.dbPath, "Late1234", Buffer.from("arrived later"));
  const res = await fetch(`${cached.server.url}/Late1234`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "arrived later");
  // And through the API: the uploader reads its own paste.
  const put = await fetch(`${cached.server.url}/`, { method: "PUT", body: "mine" });
  const { id } = (await put.json()) as { id: string };
  assert.equal(await (await fetch(`${cached.server.url}/${id}`)).text(), "mine");
});
