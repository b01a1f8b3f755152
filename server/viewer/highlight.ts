// Code highlighting for the viewer, by highlight.js: it writes class names only (no inline
// style, so the viewer's CSP holds), escapes the text it is given, and its themes are plain
// CSS files served from the package (server/routes/viewer-assets.ts). The common build is
// loaded: its 36 languages cover what people paste next to logs at a fifth of the full
// build's start-up cost.
//
// When: the language is named (`?lang=python`), or the paste is one valid JSON document.
// Nothing else is guessed: highlight.js's auto-detection scores any text against every
// grammar, and a log scores as something (SQL, Perl…) often enough to paint it wrongly.
// A paste with ANSI escapes keeps its own colours and is never highlighted.
//
// highlight.js highlights a whole text: a string or comment may run over many lines, and
// only the whole text tells. The viewer shows lines, each its own element, so the HTML is cut
// at every newline, and the spans open at a cut are closed before it and opened again after.

import { createRequire } from "node:module";
import { escapeText, type LineRenderer, type RenderedLine, withControlPictures } from "./ansi.js";
import { isJsonDocument } from "./json.js";

/** The part of highlight.js the viewer uses. */
interface HighlightJs {
  getLanguage(name: string): { readonly name?: string } | undefined;
  highlight(code: string, options: { language: string; ignoreIllegals: boolean }): { readonly value: string };
}

// Loaded with require and typed here: the package's own types begin with
// `/// <reference lib="dom" />`, which would give every file of the build the DOM's fetch
// and Blob types in place of Node's. Loaded on first use, so that a server whose pastes are
// never viewed with highlighting does not pay for it at start-up.
const require = createRequire(import.meta.url);
let loaded: HighlightJs | undefined;
function hljs(): HighlightJs {
  loaded ??= require("highlight.js/lib/common") as HighlightJs;
  return loaded;
}

/**
 * Larger pastes are shown plain, with a notice. highlight.js runs on the event loop and
 * takes about 0.3 s for 256 KiB of Python on a busy 2-core machine: beyond this, one view
 * would hold up every other request for too long.
 */
export const DEFAULT_HIGHLIGHT_MAX_BYTES = 256 * 1024;

export type HighlightChoice =
  | { readonly kind: "highlight"; readonly language: string }
  | { readonly kind: "plain"; readonly notice?: string };

/** Whether and how to highlight; `lang` is the query's, as the reader typed it (`?lang=` is no language). */
export function chooseHighlight(text: string, bytes: number, lang: string | undefined): HighlightChoice {
  const hasAnsi = text.includes("\x1b[");
  if (lang !== undefined && lang !== "") {
    const shown = escapeText(lang.slice(0, 40));
    const language = hljs().getLanguage(lang);
    if (language === undefined) return { kind: "plain", notice: `There is no highlighting for the language &#8220;${shown}&#8221;, so this paste is shown as plain text.` };
    if (hasAnsi) return { kind: "plain", notice: "This paste has ANSI colours of its own, so it is shown with them instead of code highlighting." };
    if (bytes > DEFAULT_HIGHLIGHT_MAX_BYTES) return { kind: "plain", notice: `This paste is larger than ${DEFAULT_HIGHLIGHT_MAX_BYTES / 1024} KiB, so it is shown without code highlighting.` };
    return { kind: "highlight", language: lang };
  }
  if (!hasAnsi && bytes <= DEFAULT_HIGHLIGHT_MAX_BYTES && isJsonDocument(text)) return { kind: "highlight", language: "json" };
  return { kind: "plain" };
}

/** The display name of a language highlight.js knows ("py" → "Python"). */
export function languageName(lang: string): string {
  return hljs().getLanguage(lang)?.name ?? lang;
}

const TAG_OR_NEWLINE = /<span [^>]*>|<\/span>|\n/g;

/**
 * highlight.js's HTML cut into lines, each with its spans balanced: the spans open at a
 * newline are closed at the end of the line and re-opened at the start of the next. Yields
 * one piece more than there are newlines (the last is empty when the text ends with one).
 */
export function* htmlLines(html: string): Generator<string> {
  const open: string[] = [];
  let line = "";
  let last = 0;
  for (const match of html.matchAll(TAG_OR_NEWLINE)) {
    const token = match[0];
    line += html.slice(last, match.index);
    last = match.index + token.length;
    if (token === "\n") {
      yield line + "</span>".repeat(open.length);
      line = open.join("");
      continue;
    }
    if (token === "</span>") open.pop();
    else open.push(token);
    line += token;
  }
  yield line + html.slice(last);
}

/** The lines of a highlighted text, in order; `render` takes each line's plain text for the level marks. */
export class HighlightedLineRenderer implements LineRenderer {
  private readonly lines: Generator<string>;

  constructor(text: string, language: string) {
    // \r\n as \n: the viewer's lines drop the \r, and it must not end up inside a span.
    const html = hljs().highlight(text.replace(/\r\n/g, "\n"), { language, ignoreIllegals: true }).value;
    this.lines = htmlLines(html);
  }

  render(line: string): RenderedLine {
    const next = this.lines.next();
    return { html: next.done === true ? "" : withControlPictures(next.value), text: line };
  }
}
