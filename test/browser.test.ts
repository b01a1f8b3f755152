// The web client in real Chromium: LogPaste's own end-to-end test, a file through the
// form, and logpaste.js embedded in a page of another origin.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { startTestApp, type TestApp } from "../testkit/app-server.js";
import { launchChromium } from "../testkit/browser.js";
import { freshDir } from "../testkit/scratch.js";

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

test("LogPaste's browser test: fill the textarea, click upload, follow the link, get the text back", async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${app.url}/`);
    const text = `uploaded from Chromium ${Date.now()}\nsecond line`;
    await page.fill("#upload-textarea", text);
    await page.click("#upload");
    const href = await page.locator("#result a").getAttribute("href");
    assert.match(href!, /^\/[A-Za-z0-9]{8}$/);
    const res = await fetch(`${app.url}${href}`);
    assert.equal(await res.text(), text);
    // The shareable link is absolute and has a copy button beside it.
    assert.equal(await page.locator("#result a").textContent(), `${app.url}${href}`);
    assert.equal(await page.locator("#result button.copy").count(), 1);
    assert.equal(await page.locator("#form-upload-error").isHidden(), true);
  } finally {
    await page.close();
  }
});

test("a file chosen in the form is uploaded byte for byte", async () => {
  const dir = freshDir("litepaste-browser");
  const page = await browser.newPage();
  try {
    const file = path.join(dir, "debug.log");
    const bytes = Buffer.from("error: something broke\r\n\u00e9t\u00e9 \u2603\n");
    writeFileSync(file, bytes);
    await page.goto(`${app.url}/`);
    await page.setInputFiles("#upload-file", file);
    assert.match((await page.locator("#upload-file-label").textContent())!, /debug\.log/);
    await page.click("#upload");
    const href = await page.locator("#result a").getAttribute("href");
    const res = await fetch(`${app.url}${href}`);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes));
  } finally {
    await page.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a file dropped on the textarea is uploaded", async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${app.url}/`);
    // Runs in the page (DOM types are not part of this Node project's compilation).
    const dataTransfer = await page.evaluateHandle(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["dropped content\\n"], "dropped.txt", { type: "text/plain" }));
      return dt;
    })()`);
    await page.dispatchEvent("#upload-textarea", "drop", { dataTransfer });
    await page.click("#upload");
    const href = await page.locator("#result a").getAttribute("href");
    assert.equal(await (await fetch(`${app.url}${href}`)).text(), "dropped content\n");
  } finally {
    await page.close();
  }
});

test("an empty upload shows the server's own error in #form-upload-error, as LogPaste's page does", async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${app.url}/`);
    await page.fill("#upload-textarea", "   ");
    await page.click("#upload");
    await page.locator("#form-upload-error").waitFor({ state: "visible" });
    // The words are the server's (the service's EmptyPasteError), not the page's own.
    assert.equal((await page.locator("#form-upload-error").textContent())!, "empty body");
    assert.equal(await page.locator("#result a").count(), 0);
  } finally {
    await page.close();
  }
});

test("after an upload the text stays in the box and the link sits under a \"Shareable link\" heading in #result", async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${app.url}/`);
    const text = `kept after upload ${Date.now()}`;
    await page.fill("#upload-textarea", text);
    await page.click("#upload");
    const href = await page.locator("#result a").getAttribute("href");
    assert.match(href!, /^\/[A-Za-z0-9]{8}$/);
    assert.equal(await page.locator("#result h3").textContent(), "Shareable link");
    assert.equal(await page.inputValue("#upload-textarea"), text);
    // A second upload of the kept text replaces the link rather than adding one.
    await page.click("#upload");
    await page.waitForFunction(`document.querySelector("#result a")?.getAttribute("href") !== ${JSON.stringify(href)}`);
    assert.equal(await page.locator("#result a").count(), 1);
    assert.equal(await page.locator("#result h3").count(), 1);
  } finally {
    await page.close();
  }
});

test("LogPaste's page ids are there (#curl-cmd, #curl-file-cmd, #more-info) and its light and dark CSS load under the page's CSP", async () => {
  const page = await browser.newPage();
  const refused: string[] = [];
  page.on("console", (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) refused.push(msg.text());
  });
  try {
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(`${app.url}/`);
      for (const id of ["curl-cmd", "curl-file-cmd", "more-info", "upload-textarea", "upload", "result", "form-upload-error"]) {
        assert.equal(await page.locator(`#${id}`).count(), 1, id);
      }
      assert.match((await page.locator("#curl-file-cmd").textContent())!, new RegExp(`curl -F '_=@[^']+' ${app.url}/`));
      // The palettes come from light.css and dark.css, imported by style.css.
      const background = await page.evaluate(`getComputedStyle(document.body).backgroundColor`);
      assert.equal(background, scheme === "light" ? "rgb(255, 255, 255)" : "rgb(21, 25, 30)", scheme);
    }
    assert.deepEqual(refused, []);
  } finally {
    await page.close();
  }
});

test("logpaste.js embedded in a page of another origin uploads and reads the paste back", async () => {
  const embedder = http.createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end(`<!DOCTYPE html><html><body>
      <script src="${app.url}/static/js/logpaste.js"></script>
      <script>
        window.result = logpaste.uploadText("embedded upload\\n", "${app.url}")
          .then((id) => fetch("${app.url}/" + id).then((r) => r.text()).then((text) => ({ id, text })))
          .catch((err) => ({ error: err.message }));
        window.failure = logpaste.uploadText("   ", "${app.url}").then(() => "resolved", (err) => err.message);
      </script></body></html>`);
  });
  await new Promise<void>((resolve) => embedder.listen(0, "127.0.0.1", resolve));
  const port = (embedder.address() as AddressInfo).port;
  const page = await browser.newPage();
  try {
    // localhost vs 127.0.0.1 and another port: a different origin for the browser.
    await page.goto(`http://localhost:${port}/`);
    const origin = await page.evaluate("window.location.origin");
    assert.notEqual(origin, new URL(app.url).origin);
    const result = (await page.evaluate("window.result")) as { id?: string; text?: string; error?: string };
    assert.equal(result.error, undefined);
    assert.match(result.id!, /^[A-Za-z0-9]{8}$/);
    assert.equal(result.text, "embedded upload\n");
    assert.equal(await page.evaluate("window.failure"), "empty body\n", "rejects with the server's message");
  } finally {
    await page.close();
    await new Promise((resolve) => embedder.close(resolve));
  }
});
