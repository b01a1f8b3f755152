// The viewer's HTML, produced as a sequence of strings that the route streams: the head
// and header first (painted before the rest arrives), then the lines in blocks of
// DEFAULT_FIRST_BLOCK_LINES, then DEFAULT_BLOCK_LINES. A 2 MiB log never becomes one 20 MB
// string, and every block is `content-visibility: auto` in the stylesheet, so the browser
// lays out only what is near the screen. Everything taken from the paste goes through
// visibleText/escapeText, or through highlight.js's own escaping (./highlight.ts).
// Works without JavaScript: lines are anchors and :target highlights one; viewer.js adds
// ranges, shift-click, copying a link, error navigation and the wrap toggle.

import { AnsiLineRenderer, escapeText, type LineRenderer } from "./ansi.js";
import { classify } from "./content.js";
import { looksLikeJson, prettyJson } from "./json.js";
import { lineLevel } from "./levels.js";
import { chooseHighlight, HighlightedLineRenderer, languageName } from "./highlight.js";
import { countLines, splitLines } from "./lines.js";

/** Lines per streamed block (and per content-visibility box). */
export const DEFAULT_BLOCK_LINES = 500;
/**
 * The first block is smaller: it is the one on screen, laid out before the first paint, and
 * it leaves the server sooner.
 */
export const DEFAULT_FIRST_BLOCK_LINES = 100;

/** Where the viewer's own files are served (web/static/viewer/, and the generated palette). */
export const VIEWER_ASSETS = "/static/viewer";

export interface ViewerPage {
  readonly id: string;
  readonly bytes: Buffer;
  /** The site's title (SITE_TITLE), for the page title and the header. */
  readonly siteTitle: string;
  /** `?pretty`: a JSON paste re-indented. */
  readonly pretty: boolean;
  /** When the paste was stored, if the database knows. */
  readonly created: Date | undefined;
  /** `?lang=…`: the language to highlight the paste as. */
  readonly lang: string | undefined;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
}

/** A <time> in UTC (the same for every reader, and for the screenshots); its datetime is exact. */
function createdTime(created: Date | undefined): string {
  if (created === undefined) return "";
  const iso = created.toISOString();
  return ` · <time datetime="${iso}" title="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC</time>`;
}

/** highlight.js's GitHub themes, light and dark (served by server/routes/viewer-assets.ts). */
const HIGHLIGHT_STYLES = `<link rel="stylesheet" href="${VIEWER_ASSETS}/highlight-light.css" media="not all and (prefers-color-scheme: dark)">
<link rel="stylesheet" href="${VIEWER_ASSETS}/highlight-dark.css" media="(prefers-color-scheme: dark)">
`;

function head(page: ViewerPage, meta: string, links: string, highlighted = false): string {
  const id = escapeText(page.id);
  const title = escapeText(page.siteTitle);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${id} · ${title}</title>
<link rel="stylesheet" href="${VIEWER_ASSETS}/viewer.css">
${highlighted ? HIGHLIGHT_STYLES : ""}<script src="${VIEWER_ASSETS}/viewer.js" defer></script>
</head>
<body>
<header class="bar">
<a class="brand" href="/">${title}</a>
<span class="meta"><span class="id">${id}</span> · ${meta}${createdTime(page.created)}</span>
<nav class="actions">
<a href="/${id}/raw">Raw</a>
<a href="/${id}/raw?download">Download</a>
${links}<span class="js-only" hidden>
<button type="button" data-action="prev-error" title="Previous error or warning (p)">&#8593; Prev error</button>
<button type="button" data-action="next-error" title="Next error or warning (n)">&#8595; Next error</button>
<span class="error-count"></span>
<button type="button" data-action="wrap" aria-pressed="false">Wrap</button>
<button type="button" data-action="copy-link" disabled>Copy link to lines</button>
</span>
</nav>
</header>
`;
}

/**
 * The 256-colour palette is linked after the lines: a stylesheet in the body holds up the
 * painting of what follows it only, so the first screen is painted without waiting for it
 * (colours 0-15 are in viewer.css; a colour from 16-255 on the first screen appears a moment
 * later).
 */
const PALETTE = `<link rel="stylesheet" href="${VIEWER_ASSETS}/palette.css">\n`;

const TAIL = `</body>
</html>
`;

function notice(text: string): string {
  return `<p class="notice" role="status">${text}</p>\n`;
}

/** The viewer's HTML for one paste, in pieces to be written in order. */
export function* renderPage(page: ViewerPage): Generator<string> {
  const content = classify(page.bytes);
  const size = formatSize(page.bytes.length);
  if (content.kind === "binary") {
    yield head(page, `${size} · binary`, "");
    yield notice(`This paste looks like binary data (it contains NUL bytes), so it is not shown here. <a href="/${escapeText(page.id)}/raw?download">Download it</a> to open it with the right program.`);
    yield TAIL;
    return;
  }
  const id = escapeText(page.id);
  const pretty = page.pretty && content.validUtf8 ? prettyJson(content.text) : undefined;
  const text = pretty ?? content.text;
  const lineCount = countLines(text);
  let links = "";
  if (pretty !== undefined) links = `<a href="/${id}">As uploaded</a>\n`;
  else if (looksLikeJson(content.text)) links = `<a href="/${id}?pretty">Pretty-print JSON</a>\n`;
  const highlight = chooseHighlight(text, Buffer.byteLength(text), page.lang);
  const language = highlight.kind === "highlight" ? ` · ${escapeText(languageName(highlight.language))}` : "";
  yield head(page, `${size} · ${plural(lineCount, "line")}${pretty !== undefined ? " (pretty-printed)" : ""}${language}`, links, highlight.kind === "highlight");
  if (highlight.kind === "plain" && highlight.notice !== undefined) yield notice(highlight.notice);
  if (page.pretty && pretty === undefined) {
    yield notice("This paste is not one valid JSON document, so it is shown as uploaded.");
  }
  if (!content.validUtf8) {
    yield notice("This paste is not valid UTF-8: the bytes that are not are shown as &#65533;. Raw and Download give the bytes exactly as uploaded.");
  }
  yield '<main class="log" id="log">\n';
  const renderer: LineRenderer = highlight.kind === "highlight" ? new HighlightedLineRenderer(text, highlight.language) : new AnsiLineRenderer();
  let block = "";
  let n = 0;
  for (const line of splitLines(text)) {
    n++;
    const { html, text: plain } = renderer.render(line);
    const level = lineLevel(plain);
    const cls = level === "error" ? "l e" : level === "warn" ? "l w" : "l";
    block += `<div class="${cls}" id="L${n}"><a class="n" href="#L${n}" data-n="${n}"></a><span class="t">${html}</span></div>\n`;
    if ((n - DEFAULT_FIRST_BLOCK_LINES) % DEFAULT_BLOCK_LINES === 0) {
      yield `<div class="b">\n${block}</div>\n`;
      block = "";
    }
  }
  if (block !== "") yield `<div class="b">\n${block}</div>\n`;
  yield "</main>\n";
  yield PALETTE;
  yield TAIL;
}
