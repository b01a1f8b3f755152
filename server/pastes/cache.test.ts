// The paste cache's bound and eviction order, on the real LRU the server uses.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createPasteCache, entryBytes, MAX_ENTRY_SHARE, PASTE_ENTRY_OVERHEAD_BYTES } from "./cache.js";
import { preparePaste } from "./paste.js";

const paste = (id: string, bytes: number) => preparePaste(id, Buffer.alloc(bytes, id));

test("holds at most its size in bytes, contents and per-entry overhead counted", () => {
  const entry = 4096;
  const max = 10 * (entry + PASTE_ENTRY_OVERHEAD_BYTES);
  const cache = createPasteCache(max)!;
  for (let i = 0; i < 100; i++) {
    cache.set(`id${i}`, paste(`id${i}`, entry));
    assert.ok(cache.bytes <= max, `${cache.bytes} bytes held, bound ${max}`);
  }
  assert.equal(cache.entries, 10);
  assert.equal(cache.bytes, 10 * entryBytes(paste("x", entry)));
  // Tiny pastes are bounded by their overhead.
  const tiny = createPasteCache(100 * PASTE_ENTRY_OVERHEAD_BYTES)!;
  for (let i = 0; i < 1000; i++) tiny.set(`t${i}`, paste(`t${i}`, 1));
  assert.ok(tiny.entries < 100, `${tiny.entries} one-byte pastes kept`);
});

test("evicts the least recently read first", () => {
  const ids = "abcdefgh".split("");
  const cache = createPasteCache(ids.length * entryBytes(paste("x", 100)))!;
  for (const id of ids) cache.set(id, paste(id, 100));
  assert.ok(cache.get("a"), "a read: now the most recent");
  cache.set("z", paste("z", 100));
  assert.equal(cache.get("b"), undefined, "b was the least recently used");
  for (const id of ["a", "c", "h", "z"]) assert.ok(cache.get(id), `${id} kept`);
  assert.equal(cache.entries, ids.length);
});

test("a paste larger than its share of the cache (or the whole cache) is not kept and evicts nothing", () => {
  const max = 64 * 1024;
  const cache = createPasteCache(max)!;
  cache.set("small", paste("small", 100));
  cache.set("huge", paste("huge", max * 2));
  cache.set("big", paste("big", max / MAX_ENTRY_SHARE));
  assert.equal(cache.get("huge"), undefined);
  assert.equal(cache.get("big"), undefined, "over max/MAX_ENTRY_SHARE once its overhead is counted");
  assert.ok(cache.get("small"), "the small paste stays");
  assert.equal(cache.entries, 1);
});

test("size 0 turns the cache off", () => {
  assert.equal(createPasteCache(0), null);
});
