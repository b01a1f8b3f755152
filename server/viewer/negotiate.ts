// Which answer GET /<id> gives. A browser navigating to a link sends
// `Accept: text/html,…,*/*;q=0.8` and gets the viewer; curl and fetch() send `*/*`, many
// scripts send nothing, and they all get the raw bytes as LogPaste gives them. Negotiation
// is negotiator's (the one behind Express's req.accepts): quality first, then the more
// specific range, then the order of the Accept header; text/plain is listed first, so that
// a tie that those leave open (`*/*`, `text/*`) stays raw.

import Negotiator from "negotiator";

const OFFERED = ["text/plain", "text/html"];

export function prefersViewer(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return new Negotiator({ headers: { accept } }).mediaType(OFFERED) === "text/html";
}
