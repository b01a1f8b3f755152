// The log viewer (issue 16) in real Chromium: who gets it and who gets the raw bytes, line
// links and ranges, ANSI colours, escaping under the CSP, odd bytes, a 2 MiB log, and the
// switch that turns it off.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { startTestApp, type TestApp } from "../testkit/app-server.js";
import { launchChromium } from "../testkit/browser.js";
import { upload } from "../testkit/paste-client.js";

/** What Chromium sends when it navigates to a link. */
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8";

let app: TestApp;
let browser: Browser;

before(async () => {
  app = await startTestApp();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await app?.close();
});

async function paste(body: string | Buffer, target: TestApp = app): Promise<string> {
  const answer = await upload(target.url, Buffer.isBuffer(body) ? body : Buffer.from(body));
  assert.equal(answer.status, 200, answer.text);
  return answer.id!;
}

/** A page that counts CSP violations from before the first byte of the document is parsed. */
async function viewerPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.addInitScript(`window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));`);
  return page;
}

async function openViewer(page: Page, path: string): Promise<void> {
  const res = await page.goto(`${app.url}${path}`);
  assert.equal(res!.status(), 200);
  assert.match(res!.headers()["content-type"]!, /^text\/html/);
  await page.locator("html[data-viewer=ready]").waitFor();
}

async function computed(page: Page, selector: string, property: string): Promise<string> {
  return (await page.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).getPropertyValue(${JSON.stringify(property)})`)) as string;
}

const LOG = ["starting up", "listening on :3001", "WARN disk 91% full", "\x1b[31mERROR\x1b[0m connection refused", "retrying", "ok", "done"].join("\n") + "\n";

describe("who gets the viewer", () => {
  test("a navigation gets the viewer; fetch() from the page and a plain GET get the exact bytes", async () => {
    const id = await paste(LOG);
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}`);
      assert.equal(await page.locator(".log .l").count(), 7);
      assert.equal(await page.locator("#L1 .t").textContent(), "starting up");
      assert.match((await page.locator(".meta").textContent())!, /7 lines/);
      const fromPage = (await page.evaluate(`fetch("/${id}").then((r) => r.text())`)) as string;
      assert.equal(fromPage, LOG);
      // playwright's request API is what LogPaste's own browser test uses.
      assert.equal(await (await page.request.get(`${app.url}/${id}`)).text(), LOG);
      assert.deepEqual(await page.evaluate("window.__cspViolations"), []);
    } finally {
      await page.close();
    }
    const plain = await fetch(`${app.url}/${id}`);
    assert.equal(await plain.text(), LOG);
    assert.equal(plain.headers.get("content-type"), "text/plain; charset=UTF-8");
    assert.equal(plain.headers.get("vary"), "Accept");
  });

  test("headers of the HTML answer: strict CSP, no framing, no referrer, never in a shared cache", async () => {
    const id = await paste(LOG);
    const res = await fetch(`${app.url}/${id}`, { headers: { accept: BROWSER_ACCEPT } });
    assert.equal(res.headers.get("cache-control"), "private, no-store");
    assert.equal(res.headers.get("vary"), "Accept");
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.equal(res.headers.get("etag"), null, "the page has no validator of its own");
    const csp = res.headers.get("content-security-policy")!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|https?:/);
  });

  test("the raw answer's ETag never turns a navigation into a 304; a raw client still gets its 304", async () => {
    const id = await paste(LOG);
    const html = await fetch(`${app.url}/${id}`, { headers: { accept: BROWSER_ACCEPT, "if-none-match": `"${id}"` } });
    assert.equal(html.status, 200);
    assert.match(html.headers.get("content-type")!, /^text\/html/);
    const rawClient = await fetch(`${app.url}/${id}`, { headers: { "if-none-match": `"${id}"` } });
    assert.equal(rawClient.status, 304);
  });

  test("/<id>/raw and /<id>/anything stay raw for a browser; ?download is an attachment of the same bytes", async () => {
    const id = await paste(LOG);
    for (const path of [`/${id}/raw`, `/${id}/debug.log`]) {
      const res = await fetch(`${app.url}${path}`, { headers: { accept: BROWSER_ACCEPT } });
      assert.equal(await res.text(), LOG, path);
      assert.equal(res.headers.get("content-disposition"), null);
    }
    const download = await fetch(`${app.url}/${id}/raw?download`, { headers: { accept: BROWSER_ACCEPT } });
    assert.equal(download.headers.get("content-disposition"), `attachment; filename="${id}.txt"`);
    assert.equal(await download.text(), LOG);
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}`);
      assert.equal(await page.getByRole("link", { name: "Raw" }).getAttribute("href"), `/${id}/raw`);
      assert.equal(await page.getByRole("link", { name: "Download" }).getAttribute("href"), `/${id}/raw?download`);
    } finally {
      await page.close();
    }
  });
});

describe("lines", () => {
  test("#L3 highlights line 3 and scrolls it into view", async () => {
    const id = await paste(Array.from({ length: 300 }, (_, i) => `line ${i + 1}`).join("\n"));
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}#L250`);
      assert.deepEqual(await page.locator(".l.sel").evaluateAll((els) => els.map((el) => el.id)), ["L250"]);
      assert.equal(await page.locator("#L250").isVisible(), true);
      assert.equal(await page.evaluate(`(() => { const r = document.getElementById("L250").getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()`), true);
      await page.goto(`${app.url}/${id}#L3`);
      await page.locator("#L3.sel").waitFor();
      assert.equal(await page.locator(".l.sel").count(), 1);
    } finally {
      await page.close();
    }
  });

  test("a range link selects its lines; click then shift-click selects a range and the link to it can be copied", async () => {
    const id = await paste(LOG);
    const page = await browser.newPage();
    try {
      await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: app.url });
      await openViewer(page, `/${id}#L2-L4`);
      assert.deepEqual(await page.locator(".l.sel").evaluateAll((els) => els.map((el) => el.id)), ["L2", "L3", "L4"]);
      await page.click("#L5 .n");
      assert.deepEqual(await page.locator(".l.sel").evaluateAll((els) => els.map((el) => el.id)), ["L5"]);
      await page.click("#L7 .n", { modifiers: ["Shift"] });
      assert.deepEqual(await page.locator(".l.sel").evaluateAll((els) => els.map((el) => el.id)), ["L5", "L6", "L7"]);
      assert.equal(new URL(page.url()).hash, "#L5-L7");
      await page.click('[data-action="copy-link"]');
      await page.getByText("Link copied").waitFor();
      assert.equal(await page.evaluate("navigator.clipboard.readText()"), `${app.url}/${id}#L5-L7`);
    } finally {
      await page.close();
    }
  });

  test("error and warning lines are marked and next/previous error walks them", async () => {
    const lines = ["ok", '{"level":"error","msg":"json error"}', "fine", "WARN careful", "x", '{"level":50,"msg":"pino error"}', "no error here in prose"];
    const id = await paste(lines.join("\n"));
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}`);
      assert.deepEqual(await page.locator(".l.e").evaluateAll((els) => els.map((el) => el.id)), ["L2", "L6"]);
      assert.deepEqual(await page.locator(".l.w").evaluateAll((els) => els.map((el) => el.id)), ["L4"]);
      assert.equal(await page.locator(".error-count").textContent(), "2 errors, 1 warning");
      const next = page.locator('[data-action="next-error"]');
      for (const expected of ["L2", "L4", "L6", "L2"]) {
        await next.click();
        assert.equal(await page.locator(".l.sel").getAttribute("id"), expected);
      }
      await page.click('[data-action="prev-error"]');
      assert.equal(await page.locator(".l.sel").getAttribute("id"), "L6");
    } finally {
      await page.close();
    }
  });

  test("the wrap toggle wraps long lines", async () => {
    const id = await paste(`short\n${"long ".repeat(400)}\n`);
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}`);
      const height = () => page.locator("#L2").evaluate((el) => el.getBoundingClientRect().height);
      const single = await height();
      await page.click('[data-action="wrap"]');
      assert.ok((await height()) > single * 3, "a wrapped line takes several rows");
      await page.click('[data-action="wrap"]');
      assert.equal(await height(), single);
    } finally {
      await page.close();
    }
  });
});

describe("what the paste contains", () => {
  test("\\x1b[31mERROR\\x1b[0m is a red ERROR span, not the escape; colour carries across lines", async () => {
    const id = await paste("before \x1b[31mERROR\x1b[0m after\n\x1b[1;38;5;208mbold orange\nstill orange\x1b[0m plain\n");
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}`);
      const red = page.locator("#L1 .t span");
      assert.equal(await red.textContent(), "ERROR");
      assert.equal(await red.getAttribute("class"), "ansi-red-fg");
      const colour = await computed(page, "#L1 .t span", "color");
      const [r, g, b] = colour.match(/\d+/g)!.map(Number);
      assert.ok(r! > 150 && g! < 100 && b! < 100, `red, got ${colour}`);
      assert.equal(await page.locator("#L1 .t").textContent(), "before ERROR after");
      const body = (await page.locator(".log").textContent())!;
      assert.ok(!body.includes("\x1b") && !body.includes("[31m") && !body.includes("\u241b"), body);
      assert.equal(await page.locator("#L3 .t span").first().textContent(), "still orange");
      assert.equal(await computed(page, "#L3 .t span", "color"), "rgb(255, 135, 0)");
      assert.equal(await computed(page, "#L3 .t span", "font-weight"), "700");
      assert.deepEqual(await page.evaluate("window.__cspViolations"), []);
    } finally {
      await page.close();
    }
  });

  test("white on a coloured background is white in both themes; white on the page stays readable in the light one", async () => {
    const id = await paste("\x1b[41;97m badge \x1b[0m \x1b[97mbright\x1b[0m \x1b[43;37mwhite on yellow\x1b[0m \x1b[42;30mblack on green\x1b[0m\n");
    for (const colorScheme of ["light", "dark"] as const) {
      const page = await browser.newPage({ colorScheme });
      try {
        await openViewer(page, `/${id}`);
        const colours = (await page.evaluate(`[...document.querySelectorAll("#L1 .t span")].map((el) => getComputedStyle(el).color)`)) as string[];
        assert.equal(colours[0], "rgb(255, 255, 255)", `${colorScheme}: bright white on red`);
        if (colorScheme === "light") {
          assert.notEqual(colours[1], "rgb(255, 255, 255)", "bright white on the white page is a grey");
          assert.equal(colours[2], "rgb(246, 248, 250)", "white on yellow");
        } else {
          assert.equal(colours[3], "rgb(13, 17, 23)", "black on green");
        }
      } finally {
        await page.close();
      }
    }
  });

  test("a paste of <script> and \"><img onerror> is shown as text and executes nothing", async () => {
    const hostile = [
      "<script>window.__pwned = 'script'</script>",
      `"><img src=x onerror="window.__pwned = 'img'">`,
      `'><svg onload="window.__pwned = 'svg'">`,
      "\x1b[31m<script>window.__pwned = 'ansi'</script>\x1b[0m",
      "</span></div></main><script>window.__pwned = 'break-out'</script>",
    ].join("\n");
    const id = await paste(hostile);
    const page = await viewerPage();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    try {
      await openViewer(page, `/${id}`);
      assert.equal(await page.evaluate("window.__pwned"), undefined);
      assert.deepEqual(await page.evaluate("window.__cspViolations"), []);
      assert.equal(await page.locator(".log img, .log svg, .log script").count(), 0);
      assert.equal(await page.locator("script").count(), 1, "only viewer.js");
      assert.equal(await page.locator("#L2 .t").textContent(), `"><img src=x onerror="window.__pwned = 'img'">`);
      assert.equal(await page.locator("#L5 .t").textContent(), "</span></div></main><script>window.__pwned = 'break-out'</script>");
      assert.deepEqual(dialogs, []);
    } finally {
      await page.close();
    }
  });

  test("control characters are visible; invalid UTF-8 shows replacement characters and a notice", async () => {
    const bytes = Buffer.concat([Buffer.from("bell\x07 esc\x1b(B tab\tend\n"), Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x0a])]);
    const id = await paste(bytes);
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}`);
      assert.match((await page.locator(".notice").textContent())!, /not valid UTF-8/);
      assert.equal(await page.locator("#L1 .t").textContent(), "bell\u2407 esc\u241b(B tab\tend");
      assert.equal(await page.locator("#L2 .t").textContent(), "bad\ufffd\ufffd");
    } finally {
      await page.close();
    }
    assert.ok(Buffer.from(await (await fetch(`${app.url}/${id}`)).arrayBuffer()).equals(bytes));
  });

  test("a JSON paste is pretty-printed on request, numbers exactly as uploaded; invalid JSON is shown as uploaded", async () => {
    const json = '{"id":12345678901234567890,"tags":["a","b"],"ok":true}';
    const id = await paste(json);
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}`);
      assert.equal(await page.locator(".log .l").count(), 1);
      await page.getByRole("link", { name: "Pretty-print JSON" }).click();
      await page.locator("html[data-viewer=ready]").waitFor();
      assert.equal(new URL(page.url()).search, "?pretty");
      const lines = await page.locator(".log .l .t").allTextContents();
      assert.deepEqual(lines, ["{", '  "id": 12345678901234567890,', '  "tags": [', '    "a",', '    "b"', "  ],", '  "ok": true', "}"]);
      assert.equal(await page.getByRole("link", { name: "As uploaded" }).getAttribute("href"), `/${id}`);
      const broken = await paste('{"id": 1,}');
      await openViewer(page, `/${broken}?pretty`);
      assert.match((await page.locator(".notice").textContent())!, /not one valid JSON document/);
      assert.equal(await page.locator("#L1 .t").textContent(), '{"id": 1,}');
    } finally {
      await page.close();
    }
    assert.equal(await (await fetch(`${app.url}/${id}?pretty`)).text(), json, "raw clients ignore ?pretty");
  });

  test("a binary paste gets a notice and the download link instead of garbage", async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);
    const id = await paste(bytes);
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}`);
      assert.match((await page.locator(".notice").textContent())!, /binary/);
      assert.equal(await page.locator(".log").count(), 0);
      const href = await page.locator(".notice a").getAttribute("href");
      assert.equal(href, `/${id}/raw?download`);
      const download = await fetch(`${app.url}${href}`);
      assert.equal(download.headers.get("content-disposition"), `attachment; filename="${id}.txt"`);
      assert.ok(Buffer.from(await download.arrayBuffer()).equals(bytes));
    } finally {
      await page.close();
    }
  });

  test("a 2 MiB log of 50,000 lines renders every line and is interactive", async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) =>
      i % 997 === 0 ? `12:00:00 \x1b[31mERROR\x1b[0m request ${i} failed` : `12:00:00 INFO request ${i} served ok`,
    );
    let body = lines.join("\n") + "\n";
    body += "x".repeat(2 * 1024 * 1024 - Buffer.byteLength(body) - 1) + "\n";
    const id = await paste(body);
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}#L49000`);
      assert.equal(await page.locator(".log .l").count(), 50_001);
      assert.equal(await page.locator(".l.sel").getAttribute("id"), "L49000");
      assert.equal(await page.locator("#L49000 .t").textContent(), "12:00:00 INFO request 48999 served ok");
      await page.click('[data-action="next-error"]');
      assert.equal(await page.locator(".l.sel").getAttribute("id"), `L${Math.ceil(49000 / 997) * 997 + 1}`);
      await page.click("#L10 .n");
      await page.click("#L12 .n", { modifiers: ["Shift"] });
      assert.equal(await page.locator(".l.sel").count(), 3);
    } finally {
      await page.close();
    }
  });
});

test("-viewer=false: a browser gets the raw bytes, as from LogPaste", async () => {
  const off = await startTestApp({ viewer: false });
  const page = await browser.newPage();
  try {
    const id = await paste(LOG, off);
    const res = await page.goto(`${off.url}/${id}`);
    assert.equal(res!.headers()["content-type"], "text/plain; charset=UTF-8");
    assert.equal(res!.headers()["vary"], undefined);
    assert.equal(await res!.text(), LOG);
    assert.equal((await fetch(`${off.url}/static/viewer/palette.css`)).status, 404);
  } finally {
    await page.close();
    await off.close();
  }
});

describe("the header", () => {
  test("shows when the paste was stored, as a <time> with its exact datetime", async () => {
    const before = Date.now();
    const id = await paste(LOG);
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}`);
      const time = page.locator(".meta time");
      const datetime = (await time.getAttribute("datetime"))!;
      assert.match(datetime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      const created = Date.parse(datetime);
      // The store keeps whole seconds: the paste was stored within this test's span, rounded down.
      assert.ok(created >= Math.floor(before / 1000) * 1000 && created <= Date.now(), `${datetime} is when the paste was stored`);
      assert.equal(await time.textContent(), `${datetime.slice(0, 10)} ${datetime.slice(11, 19)} UTC`);
    } finally {
      await page.close();
    }
  });
});

describe("code highlighting", () => {
  const PYTHON = ['def greet(name):', '    """Say hello', '    to <b>name</b>', '    at length."""', '    return f"hi {name}"  # done', ""].join("\n");

  test("?lang=python highlights keywords with highlight.js's classes, its theme served under the CSP", async () => {
    const id = await paste(PYTHON);
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}?lang=python`);
      assert.equal(await page.locator("#L1 .t .hljs-keyword").first().textContent(), "def");
      assert.match((await page.locator(".meta").textContent())!, /Python/);
      // The theme is applied: a keyword is not in the text's colour.
      assert.notEqual(await computed(page, "#L1 .t .hljs-keyword", "color"), await computed(page, "#L1 .t", "color"));
      assert.equal(await page.locator(".notice").count(), 0);
      assert.deepEqual(await page.evaluate("window.__cspViolations"), []);
      // Lines stay lines: numbers, anchors, exact text.
      assert.deepEqual(await page.locator(".log .l .t").allTextContents(), PYTHON.split("\n").slice(0, -1));
    } finally {
      await page.close();
    }
    assert.equal(await (await fetch(`${app.url}/${id}?lang=python`)).text(), PYTHON, "raw clients ignore ?lang");
  });

  test("a string over several lines is a string on each of them: its span is re-opened at every line", async () => {
    const id = await paste(PYTHON);
    const page = await viewerPage();
    try {
      await openViewer(page, `/${id}?lang=python`);
      // The string starts after line 2's indent and covers the whole of lines 3 and 4.
      for (const [n, text] of [[2, '"""Say hello'], [3, "    to <b>name</b>"], [4, '    at length."""']] as const) {
        const string = page.locator(`#L${n} .t > .hljs-string`);
        assert.equal(await string.count(), 1, `line ${n} has its string span`);
        assert.equal(await string.textContent(), text);
      }
      assert.equal(await page.locator(".log b").count(), 0, "the <b> in the string is text");
      assert.equal(await page.locator("#L5 .t > .hljs-comment").textContent(), "# done");
      assert.equal(await page.locator("#L5 .t > .hljs-string").count(), 1, "the docstring ended on line 4");
    } finally {
      await page.close();
    }
  });

  test("an unknown language, ANSI colours, or a paste over the cap: a notice and no highlighting", async () => {
    const page = await viewerPage();
    try {
      const plain = await paste(PYTHON);
      await openViewer(page, `/${plain}?lang=no<such>lang`);
      assert.equal(await page.locator(".notice").textContent(), "There is no highlighting for the language \u201cno<such>lang\u201d, so this paste is shown as plain text.");
      assert.equal(await page.locator(".log [class^=hljs]").count(), 0);

      const coloured = await paste("\x1b[31mdef\x1b[0m f(): pass\n");
      await openViewer(page, `/${coloured}?lang=python`);
      assert.match((await page.locator(".notice").textContent())!, /ANSI colours/);
      assert.equal(await page.locator("#L1 .t span").first().getAttribute("class"), "ansi-red-fg");
      assert.equal(await page.locator(".log [class^=hljs]").count(), 0);

      const big = await paste("x = 1\n".repeat(Math.ceil((256 * 1024 + 1) / 6)));
      await openViewer(page, `/${big}?lang=python`);
      assert.match((await page.locator(".notice").textContent())!, /larger than 256 KiB/);
      assert.equal(await page.locator("#L1 [class^=hljs]").count(), 0);
    } finally {
      await page.close();
    }
  });

  test("a JSON document is highlighted without asking; a log is never guessed at", async () => {
    const page = await viewerPage();
    try {
      const json = await paste('{"id": 1, "name": "x"}');
      await openViewer(page, `/${json}`);
      assert.equal(await page.locator("#L1 .hljs-attr").first().textContent(), '"id"');
      await openViewer(page, `/${json}?pretty`);
      assert.equal(await page.locator("#L2 .hljs-attr").textContent(), '"id"');
      const log = await paste("SELECT failed: ERROR 1045 for user 'root'\nif (retry) then exit\n");
      await openViewer(page, `/${log}`);
      assert.equal(await page.locator(".log [class^=hljs]").count(), 0);
      assert.equal(await page.locator(".l.e").count(), 1);
    } finally {
      await page.close();
    }
  });

  test("<script> in highlighted HTML or JavaScript is text and executes nothing", async () => {
    const hostile = ["<script>window.__pwned = 'script'</script>", `<img src=x onerror="window.__pwned = 'img'">`, "/* </span></div><script>window.__pwned = 'comment'</script>", "*/"].join("\n");
    const id = await paste(hostile);
    const page = await viewerPage();
    try {
      for (const lang of ["html", "javascript"]) {
        await openViewer(page, `/${id}?lang=${lang}`);
        assert.equal(await page.evaluate("window.__pwned"), undefined, lang);
        assert.deepEqual(await page.evaluate("window.__cspViolations"), [], lang);
        assert.equal(await page.locator(".log img, .log script").count(), 0, lang);
        assert.equal(await page.locator("script").count(), 1, "only viewer.js");
        assert.deepEqual(await page.locator(".log .l .t").allTextContents(), hostile.split("\n"), lang);
        assert.ok((await page.locator("#L1 [class^=hljs]").count()) > 0, `${lang} is highlighted`);
      }
    } finally {
      await page.close();
    }
  });
});
