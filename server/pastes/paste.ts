// A stored paste as the routes answer it: the bytes, and the headers of its answers worked
// out once, so that an answer from the cache (./cache.ts) costs a lookup and nothing else.

import { PASTE_HEADERS } from "../security-headers.js";

/** A paste never changes: its id is a strong validator and any cache may keep it forever. */
export const PASTE_CACHE_CONTROL = "public, max-age=31536000, immutable";
export const PASTE_CONTENT_TYPE = "text/plain; charset=UTF-8";

export interface Paste {
  readonly contents: Buffer;
  /** When it was stored (the viewer's header shows it); never part of the raw answer. */
  readonly created: Date | undefined;
  /** The quoted id. */
  readonly etag: string;
  /** Headers of every answer about the paste, 304 included: the validator and caching. */
  readonly validatorHeaders: Readonly<Record<string, string>>;
  /** Headers of a 200 with the contents as plain text: the above, plus type and length. */
  readonly textHeaders: Readonly<Record<string, string>>;
}

const SAFETY_HEADERS = Object.fromEntries(Object.entries(PASTE_HEADERS).map(([name, value]) => [name.toLowerCase(), value]));

export function preparePaste(id: string, contents: Buffer, created?: Date): Paste {
  const etag = `"${id}"`;
  // Lower-case names: Fastify keys its headers in lower case, so it keeps these as given.
  const validatorHeaders = { etag, "cache-control": PASTE_CACHE_CONTROL, ...SAFETY_HEADERS };
  return {
    contents,
    created,
    etag,
    validatorHeaders,
    textHeaders: { ...validatorHeaders, "content-type": PASTE_CONTENT_TYPE, "content-length": String(contents.length) },
  };
}

/** If-None-Match names this paste (or any representation): the client's copy is current. */
export function matchesEtag(ifNoneMatch: string | undefined, paste: Paste): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim();
    return t === paste.etag || t === "*";
  });
}
