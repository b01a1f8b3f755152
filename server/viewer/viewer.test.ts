import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../config.js";
import { AnsiLineRenderer, visibleText } from "./ansi.js";
import { chooseHighlight, DEFAULT_HIGHLIGHT_MAX_BYTES, htmlLines } from "./highlight.js";
import { lineLevel } from "./levels.js";
import { DEFAULT_BLOCK_LINES, DEFAULT_FIRST_BLOCK_LINES, renderPage } from "./page.js";
import { countLines, splitLines } from "./lines.js";
import { prefersViewer } from "./negotiate.js";
import { nearestPaletteIndex, paletteRgb } from "./palette.js";

test("only an Accept that prefers text/html over text/plain and */* gets the viewer", () => {
  const viewer = [
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "text/html",
    "text/html, text/plain;q=0.5",
  ];
  const raw = [undefined, "", "*/*", "text/*", "text/plain", "text/plain, text/html", "text/html;q=0.5, text/plain", "application/json", "text/html;q=0.5, */*"];
  for (const accept of viewer) assert.equal(prefersViewer(accept), true, accept);
  for (const accept of raw) assert.equal(prefersViewer(accept), false, String(accept));
});

test("-viewer=false and PASTE_VIEWER=false turn the viewer off; it is on by default", () => {
  assert.equal(loadConfig([], {}).viewer, true);
  assert.equal(loadConfig(["-viewer=false"], {}).viewer, false);
  assert.equal(loadConfig([], { PASTE_VIEWER: "false" }).viewer, false);
  assert.equal(loadConfig(["-viewer"], { PASTE_VIEWER: "false" }).viewer, true);
  assert.throws(() => loadConfig([], { PASTE_VIEWER: "maybe" }), /PASTE_VIEWER: expected true or false/);
});

test("truecolour is quantised to the nearest xterm palette colour", () => {
  assert.deepEqual(paletteRgb(16), [0, 0, 0]);
  assert.deepEqual(paletteRgb(196), [255, 0, 0]);
  assert.deepEqual(paletteRgb(244), [128, 128, 128]);
  assert.equal(nearestPaletteIndex(255, 0, 0), 196);
  assert.equal(nearestPaletteIndex(250, 130, 5), 208);
  assert.equal(nearestPaletteIndex(128, 128, 128), 244);
  for (let i = 16; i < 256; i++) assert.equal(nearestPaletteIndex(...paletteRgb(i)), i, `colour ${i} maps to itself`);
});

test("ANSI state carries from line to line until reset", () => {
  const r = new AnsiLineRenderer();
  assert.equal(r.render("a \x1b[32mgreen").html, 'a <span class="ansi-green-fg">green</span>');
  assert.equal(r.render("still green\x1b[0m plain").html, '<span class="ansi-green-fg">still green</span> plain');
  assert.equal(r.render("plain <b>").html, "plain &#60;b&#62;");
  assert.equal(r.render("\x1b[7;31mreversed").html, '<span class="ansi-black-fg ansi-red-bg">reversed</span>');
  assert.equal(r.render("reversed on the next line\x1b[0m").html, '<span class="ansi-black-fg ansi-red-bg">reversed on the next line</span>');
  assert.equal(r.render("\x1b[38;2;0;0;255mblue").text, "blue");
});

test("control characters become labelled control pictures; tabs stay", () => {
  assert.equal(visibleText("a\tb"), "a\tb");
  assert.equal(visibleText("\x00\x1b\x7f"), [
    '<span class="ctl" title="U+0000">\u2400</span>',
    '<span class="ctl" title="U+001B">\u241b</span>',
    '<span class="ctl" title="U+007F">\u2421</span>',
  ].join(""));
});

test("levels: logger words, logfmt and JSON fields; prose is not an error", () => {
  assert.equal(lineLevel("2024 ERROR boom"), "error");
  assert.equal(lineLevel("[FATAL] gone"), "error");
  assert.equal(lineLevel("WARNING: low disk"), "warn");
  assert.equal(lineLevel('{"level":"warn","msg":"x"}'), "warn");
  assert.equal(lineLevel('{"level":60}'), "error");
  assert.equal(lineLevel('{"level":30,"msg":"ERROR in text"}'), undefined, "the field decides");
  assert.equal(lineLevel("time=1 level=error msg=x"), "error");
  assert.equal(lineLevel("no error found"), undefined);
  assert.equal(lineLevel("INFO all good"), undefined);
});

test("lines: \\n and \\r\\n ends, no phantom last line", () => {
  assert.deepEqual([...splitLines("a\r\nb\n\nc")], ["a", "b", "", "c"]);
  assert.deepEqual([...splitLines("a\n")], ["a"]);
  assert.equal(countLines("a\r\nb\n\nc"), 4);
  assert.equal(countLines("a\n"), 1);
  assert.equal(countLines(""), 0);
});

test("highlighted HTML cut into lines: spans open at a newline are closed and re-opened", () => {
  const html = 'a <span class="s">"x\ny <span class="e">\\n\n</span>z"</span> b\n';
  assert.deepEqual([...htmlLines(html)], [
    'a <span class="s">"x</span>',
    '<span class="s">y <span class="e">\\n</span></span>',
    '<span class="s"><span class="e"></span>z"</span> b',
    "",
  ]);
  assert.deepEqual([...htmlLines("no newline")], ["no newline"]);
});

test("highlighting: a named language, else only a valid JSON document; ANSI, size and unknown names say why not", () => {
  assert.deepEqual(chooseHighlight("x = 1", 5, "py"), { kind: "highlight", language: "py" });
  assert.deepEqual(chooseHighlight('{"a": 1}', 8, undefined), { kind: "highlight", language: "json" });
  assert.deepEqual(chooseHighlight('{"a": 1}\n{"a": 2}', 17, undefined), { kind: "plain" }, "JSON lines are a log");
  assert.deepEqual(chooseHighlight("SELECT * FROM t; -- ERROR", 25, undefined), { kind: "plain" });
  assert.equal(chooseHighlight("x", 1, "klingon").kind, "plain");
  assert.deepEqual(chooseHighlight("x", 1, ""), { kind: "plain" }, "an empty ?lang= is no language, without a notice");
  assert.match(String((chooseHighlight("x", 1, "<k>") as { notice?: string }).notice), /&#60;k&#62;/, "the name is escaped");
  assert.match(String((chooseHighlight("\x1b[31mx", 6, "python") as { notice?: string }).notice), /ANSI/);
  assert.match(String((chooseHighlight("x", DEFAULT_HIGHLIGHT_MAX_BYTES + 1, "python") as { notice?: string }).notice), /larger than 256 KiB/);
  assert.equal(chooseHighlight('{"a": 1}', DEFAULT_HIGHLIGHT_MAX_BYTES + 1, undefined).kind, "plain");
});

test("the page: the first block is small, the palette is linked after the lines and not in the head", () => {
  const text = Array.from({ length: 1200 }, (_, i) => `line ${i + 1}`).join("\n");
  const pieces = [...renderPage({ id: "Abcd1234", bytes: Buffer.from(text), siteTitle: "t", pretty: false, created: undefined, lang: undefined })];
  const blocks = pieces.filter((p) => p.startsWith('<div class="b">'));
  assert.deepEqual(blocks.map((b) => b.match(/class="l"/g)!.length), [DEFAULT_FIRST_BLOCK_LINES, DEFAULT_BLOCK_LINES, DEFAULT_BLOCK_LINES, 100]);
  const html = pieces.join("");
  assert.ok(!pieces[0]!.includes("palette.css"), "not render-blocking in the head");
  assert.ok(html.indexOf("palette.css") > html.indexOf("</main>"));
  assert.ok(pieces[0]!.includes("viewer.css"));
});
