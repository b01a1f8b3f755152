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

test("an upload error is shown in #form-upload-error", async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${app.url}/`);
    await page.fill("#upload-textarea", "   ");
    await page.click("#upload");
    await page.locator("#form-upload-error").waitFor({ state: "visible" });
    assert.match((await page.locator("#form-upload-error").textContent())!, /Nothing to upload/);
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
