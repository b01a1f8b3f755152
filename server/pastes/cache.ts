// Hot pastes in memory. A paste never changes once stored, so a cached copy is never stale
// and needs no invalidation; only unknown ids are never kept (a paste may be stored under
// that id a moment later, and a remembered "not found" would hide the uploader's own paste).
// The bound is in bytes, not entries: pastes range from a line to several MiB.

import { LRUCache } from "lru-cache";
import type { Paste } from "./paste.js";

/** 32 MiB: a modest part of a 256 MB machine (fly.toml), room for ~30 000 typical 1 KiB pastes. */
export const DEFAULT_PASTE_CACHE_BYTES = 32 * 1024 * 1024;
/**
 * What an entry costs beyond its contents: the Paste object, its two header objects and the
 * cache's own bookkeeping, so that a cache of tiny pastes is bounded too (measured as about
 * 600 bytes of V8 heap per entry; rounded up).
 */
export const PASTE_ENTRY_OVERHEAD_BYTES = 1024;
/**
 * The largest entry is this share of the cache: one big paste read once must not push out
 * the many small ones that are read again and again.
 */
export const MAX_ENTRY_SHARE = 8;

export interface PasteCache {
  get(id: string): Paste | undefined;
  /** Keeps the paste unless it is too large for the cache (see MAX_ENTRY_SHARE). */
  set(id: string, paste: Paste): void;
  /** Bytes held, by the same count as the bound. */
  readonly bytes: number;
  readonly entries: number;
}

export function entryBytes(paste: Paste): number {
  return paste.contents.length + PASTE_ENTRY_OVERHEAD_BYTES;
}

/** A least-recently-used cache of at most `maxBytes`; 0 turns caching off. */
export function createPasteCache(maxBytes: number): PasteCache | null {
  if (maxBytes <= 0) return null;
  const lru = new LRUCache<string, Paste>({
    maxSize: maxBytes,
    maxEntrySize: Math.floor(maxBytes / MAX_ENTRY_SHARE),
    sizeCalculation: entryBytes,
  });
  return {
    get: (id) => lru.get(id),
    set(id, paste) {
      lru.set(id, paste);
    },
    get bytes() {
      return lru.calculatedSize;
    },
    get entries() {
      return lru.size;
    },
  };
}
