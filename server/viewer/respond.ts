// The viewer's answer: the streamed page and the headers that keep it safe and out of
// shared caches. The page is built from someone else's paste, so it gets a CSP with no
// inline script or style and nothing from other origins, and it may not be framed. It is
// `private, no-store`: many CDNs ignore `Vary: Accept`, and one that stored the HTML would
// hand it to curl; with no-store a shared cache can only ever hold the raw bytes.

import { Readable } from "node:stream";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { FastifyReply } from "fastify";
import { renderPage, type ViewerPage } from "./page.js";

export const VIEWER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  // The page may fetch its own paste (/<id>/raw) and nothing else.
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The page's pieces with a turn of the event loop between them. A socket on a fast link
 * takes every piece at once, so a synchronous generator would render the whole 50,000-line
 * page in one go, and the page's own stylesheet, which the browser asks for as soon as it has
 * the head, would wait behind it: the first paint waited for the last line. Between blocks,
 * the stylesheet and every other request are answered.
 */
async function* taking(turns: Iterable<string>): AsyncGenerator<string> {
  for (const piece of turns) {
    yield piece;
    await nextTurn();
  }
}

export function sendViewer(reply: FastifyReply, page: ViewerPage): FastifyReply {
  return reply
    .header("Content-Security-Policy", VIEWER_CSP)
    .header("X-Frame-Options", "DENY")
    .header("Referrer-Policy", "no-referrer")
    .header("X-Content-Type-Options", "nosniff")
    .header("Cache-Control", "private, no-store")
    .type("text/html; charset=utf-8")
    // One piece read ahead, not Readable's 16: the head and first block leave at once.
    .send(Readable.from(taking(renderPage(page)), { highWaterMark: 1 }));
}
