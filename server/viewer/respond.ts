// The viewer's answer: the streamed page and the headers that keep it safe and out of
// shared caches. The page is built from someone else's paste, so it gets a CSP with no
// inline script or style and nothing from other origins, and it may not be framed. It is
// `private, no-store`: many CDNs ignore `Vary: Accept`, and one that stored the HTML would
// hand it to curl; with no-store a shared cache can only ever hold the raw bytes.

import { Readable } from "node:stream";
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

export function sendViewer(reply: FastifyReply, page: ViewerPage): FastifyReply {
  return reply
    .header("Content-Security-Policy", VIEWER_CSP)
    .header("X-Frame-Options", "DENY")
    .header("Referrer-Policy", "no-referrer")
    .header("X-Content-Type-Options", "nosniff")
    .header("Cache-Control", "private, no-store")
    .type("text/html; charset=utf-8")
    .send(Readable.from(renderPage(page)));
}
