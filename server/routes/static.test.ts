import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startTestApp, type TestApp } from "../../testkit/app-server.js";
import { rawExchange } from "../../testkit/raw-http.js";
import { HANG_TIMEOUT_MS } from "../../testkit/wait.js";

// The paths LogPaste's pages, embeds and custom footers link, with what each must hold.
const LOGPASTE_FILES: ReadonlyArray<[path: string, type: RegExp, holds: RegExp]> = [
  ["/static/css/style.css", /^text\/css/, /light\.css/],
  ["/static/css/light.css", /^text\/css/, /--bg:/],
  ["/static/css/dark.css", /^text\/css/, /--bg:/],
  ["/static/js/logpaste.js", /^text\/javascript; charset=utf-8$/, /uploadText/],
  ["/static/js/app.js", /^text\/javascript; charset=utf-8$/, /upload-textarea/],
  ["/static/third-party/prism/prism.js", /^text\/javascript; charset=utf-8$/, /languages\.bash=/],
  ["/static/third-party/prism/light.css", /^text\/css/, /language-/],
  ["/static/third-party/prism/dark.css", /^text\/css/, /language-/],
  ["/third-party/prism/prism.js", /^text\/javascript; charset=utf-8$/, /languages\.javascript=/],
  ["/third-party/prism/light.css", /^text\/css/, /language-/],
  ["/third-party/prism/dark.css", /^text\/css/, /language-/],
  ["/js/logpaste.js", /^text\/javascript; charset=utf-8$/, /uploadText/],
  ["/css/dark.css", /^text\/css/, /--bg:/],
];

describe("LogPaste's static files", () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  for (const [path, type, holds] of LOGPASTE_FILES) {
    test(`${path}: 200, its type, cached for a week as LogPaste's`, async () => {
      const res = await fetch(`${app.url}${path}`);
      const body = await res.text();
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, type);
      assert.equal(res.headers.get("cache-control"), "public, max-age=604800");
      assert.match(body, holds);
      const head = await fetch(`${app.url}${path}`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("cache-control"), "public, max-age=604800");
    });
  }

  test("the light and dark Prism themes are different files, and the two prefixes serve the same bytes", async () => {
    const text = async (p: string) => (await fetch(`${app.url}${p}`)).text();
    assert.notEqual(await text("/static/third-party/prism/light.css"), await text("/static/third-party/prism/dark.css"));
    for (const name of ["prism.js", "light.css", "dark.css"]) assert.equal(await text(`/third-party/prism/${name}`), await text(`/static/third-party/prism/${name}`), name);
  });

  test("a file that is not there is still 404, under /third-party/ too", async () => {
    for (const path of ["/static/third-party/prism/nope.js", "/third-party/prism/nope.js", "/third-party/x", "/static/css/nope.css"]) {
      const res = await fetch(`${app.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.match(await res.text(), /not found\n$/);
    }
  });

  test("GET /favicon.ico answers LogPaste's 404 text", async () => {
    const res = await fetch(`${app.url}/favicon.ico`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(await res.text(), "Resource not found\n");
  });
});

describe("every error answer carries X-Content-Type-Options: nosniff, as Go's http.Error sets it", () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ perMinuteLimit: 2, maxPasteBytes: 16 });
  });
  after(() => app.close());

  async function assertError(res: Response, status: number) {
    assert.equal(res.status, status, await res.clone().text());
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", `${status}`);
    assert.match(res.headers.get("content-type")!, /^text\/plain/);
    assert.match(await res.text(), /\n$/);
  }

  test("404, 405, 400, 413, 429 from the routes", async () => {
    await assertError(await fetch(`${app.url}/abcd1234`), 404);
    await assertError(await fetch(`${app.url}/static/nope.js`), 404);
    await assertError(await fetch(`${app.url}/x`, { method: "DELETE" }), 405);
    await assertError(await fetch(`${app.url}/`, { method: "PUT", body: "" }), 400);
    await assertError(await fetch(`${app.url}/`, { method: "PUT", body: "x".repeat(17) }), 413);
    await assertError(await fetch(`${app.url}/`, { method: "PUT", body: "third upload this minute" }), 429);
  });

  test("400 from Node's HTTP parser, answered before Fastify sees a request", async () => {
    const port = Number(new URL(app.url).port);
    const res = await rawExchange(port, Buffer.from("NOT HTTP AT ALL\r\n\r\n", "latin1"), { head: false, timeoutMs: HANG_TIMEOUT_MS });
    assert.equal(res.kind, "response");
    if (res.kind !== "response") return;
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  });
});
