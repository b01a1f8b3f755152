// Headers that tell a browser what a page may do. The home page loads only its own files
// (web/static/: no inline script or style) and talks only to its own origin; it may not be
// framed. A paste is text that nothing should run, even if a browser guessed it were HTML.

/** The home page: scripts, styles and requests from its own origin only; never in a frame. */
export const HTML_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
};

/** A paste's bytes: never sniffed, and sandboxed with nothing allowed should a browser render them anyway. */
export const PASTE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": "default-src 'none'; sandbox",
  "X-Content-Type-Options": "nosniff",
};
