import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import { startTestApp, type TestApp } from "../testkit/app-server.js";

const ID = /^[A-Za-z0-9]{8}$/;
const MIB = 1024 * 1024;

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with exactly the headers and bytes given (fetch adds its own). */
function raw(url: string, method: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** multipart/form-data built byte by byte, so tests control every part exactly. */
function multipart(parts: Array<{ name: string; value: Buffer | string; filename?: string }>) {
  const boundary = "----litepaste-test-boundary";
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ""}`;
    const type = part.filename ? "Content-Type: application/octet-stream\r\n" : "";
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`));
    chunks.push(Buffer.from(part.value));
    chunks.push(Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` } };
}

async function put(app: TestApp, body: Buffer | string, headers: Record<string, string> = {}) {
  return raw(`${app.url}/`, "PUT", body, headers);
}

async function putId(app: TestApp, body: Buffer | string): Promise<string> {
  const res = await put(app, body);
  assert.equal(res.status, 200, res.body.toString());
  return JSON.parse(res.body.toString()).id;
}

describe("the LogPaste contract", () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test("PUT stores the raw body and answers JSON with an 8-character id and CORS", async () => {
    const res = await put(app, "hello from curl\n", { "Content-Type": "application/x-www-form-urlencoded" });
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "application/json");
    assert.equal(res.headers["access-control-allow-origin"], "*");
    assert.match(res.body.toString(), /^\{"id":"[A-Za-z0-9]{8}"\}\n$/);
    const { id } = JSON.parse(res.body.toString());
    const got = await raw(`${app.url}/${id}`, "GET");
    assert.equal(got.status, 200);
    assert.equal(got.headers["content-type"], "text/plain; charset=UTF-8");
    assert.equal(got.body.toString(), "hello from curl\n");
  });

  test("PUT to any path and without a Content-Type works the same", async () => {
    const res = await raw(`${app.url}/some/path`, "PUT", "no content type");
    assert.equal(res.status, 200);
    const { id } = JSON.parse(res.body.toString());
    assert.equal((await raw(`${app.url}/${id}`, "GET")).body.toString(), "no content type");
  });

  test("the size limit is in bytes: exactly the limit is accepted, one byte more is 413 naming the limit", async () => {
    const atLimit = Buffer.alloc(2 * MIB, "a");
    const id = await putId(app, atLimit);
    assert.ok((await raw(`${app.url}/${id}`, "GET")).body.equals(atLimit));
    const over = await put(app, Buffer.alloc(2 * MIB + 1, "a"));
    assert.equal(over.status, 413);
    assert.equal(over.body.toString(), "body too long: the limit is 2097152 bytes (2 MiB)\n");
  });

  test("multi-byte characters count as bytes against the limit", async () => {
    const euro = Buffer.from("€"); // 3 bytes
    const body = Buffer.concat([Buffer.alloc(2 * MIB - 2, "a"), euro]);
    assert.equal((await put(app, body)).status, 413);
  });

  test("empty and whitespace-only bodies are 400 empty body", async () => {
    for (const body of ["", " ", "\n\r\n\t \v\f", "\u00a0\u3000 \u2028"]) {
      const res = await put(app, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.toString(), "empty body\n");
    }
  });

  test("bytes round-trip exactly: invalid UTF-8, NUL, CRLF, a lone BOM, leading/trailing space", async () => {
    const bodies = [
      Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3, 0x28, 0x00, 0x0a]),
      Buffer.from("line one\r\nline two\r\n"),
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from("  padded  \n\n"),
      Buffer.from([0x00]),
    ];
    for (const body of bodies) {
      const id = await putId(app, body);
      const got = await raw(`${app.url}/${id}`, "GET");
      assert.ok(got.body.equals(body), `${body.toString("hex")} came back as ${got.body.toString("hex")}`);
    }
  });

  test("GET of an unknown id is 404 entry not found; /<id>/anything serves the paste", async () => {
    const missing = await raw(`${app.url}/AAAAAAAA`, "GET");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.toString(), "entry not found\n");
    const id = await putId(app, "nested");
    const nested = await raw(`${app.url}/${id}/anything/at/all`, "GET");
    assert.equal(nested.status, 200);
    assert.equal(nested.body.toString(), "nested");
  });

  test("GET of a paste is cacheable forever, sniff-proof, CORS-readable, and revalidates with 304", async () => {
    const id = await putId(app, "cache me");
    const res = await raw(`${app.url}/${id}`, "GET");
    assert.equal(res.headers["access-control-allow-origin"], "*");
    assert.equal(res.headers["x-content-type-options"], "nosniff");
    assert.equal(res.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.match(res.headers.etag!, /^"[^"]+"$/, "a strong ETag");
    const again = await raw(`${app.url}/${id}`, "GET", undefined, { "If-None-Match": res.headers.etag! });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
  });

  test("HEAD works wherever GET does", async () => {
    const id = await putId(app, "head me");
    const head = await raw(`${app.url}/${id}`, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], "7");
    assert.equal(head.body.length, 0);
    assert.equal((await raw(`${app.url}/`, "HEAD")).status, 200);
    assert.equal((await raw(`${app.url}/static/js/logpaste.js`, "HEAD")).status, 200);
    assert.equal((await raw(`${app.url}/AAAAAAAA`, "HEAD")).status, 404);
  });

  test("OPTIONS on any path allows cross-origin GET and PUT", async () => {
    for (const p of ["/", "/abc", "/x/y"]) {
      const res = await raw(`${app.url}${p}`, "OPTIONS", undefined, {
        Origin: "https://other.example",
        "Access-Control-Request-Method": "PUT",
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers["access-control-allow-origin"], "*");
      assert.equal(res.headers["access-control-allow-methods"], "GET, PUT");
      assert.equal(res.headers["access-control-allow-headers"], "Content-Type");
    }
  });

  test("POST with a text field (curl -F '_=<-') answers the paste URL in text/plain", async () => {
    const form = multipart([{ name: "_", value: "from a field\n" }]);
    const res = await raw(`${app.url}/`, "POST", form.body, form.headers);
    assert.equal(res.status, 200);
    assert.match(res.headers["content-type"]!, /^text\/plain/);
    const match = new RegExp(`^${app.url}/([A-Za-z0-9]{8})\\n$`).exec(res.body.toString());
    assert.ok(match, res.body.toString());
    assert.equal((await raw(`${app.url}/${match[1]}`, "GET")).body.toString(), "from a field\n");
  });

  test("POST with a file field (curl -F '_=@file.log'), and field names are ignored", async () => {
    const content = Buffer.from([0x00, 0xff, 0x41, 0x0d, 0x0a]);
    const form = multipart([{ name: "whatever", value: content, filename: "file.log" }]);
    const res = await raw(`${app.url}/`, "POST", form.body, form.headers);
    assert.equal(res.status, 200, res.body.toString());
    const id = res.body.toString().trim().split("/").pop()!;
    assert.ok((await raw(`${app.url}/${id}`, "GET")).body.equals(content));
  });

  test("POST text fields keep their exact bytes too", async () => {
    const content = Buffer.from([0xc3, 0x28, 0x00, 0xe2, 0x82, 0xac, 0xff]);
    const form = multipart([{ name: "logpaste", value: content }]);
    const res = await raw(`${app.url}/`, "POST", form.body, form.headers);
    const id = res.body.toString().trim().split("/").pop()!;
    assert.ok((await raw(`${app.url}/${id}`, "GET")).body.equals(content));
  });

  test("POST with an empty text field beside a file stores the file", async () => {
    const form = multipart([
      { name: "text", value: "" },
      { name: "file", value: "the file wins", filename: "a.txt" },
    ]);
    const res = await raw(`${app.url}/`, "POST", form.body, form.headers);
    assert.equal(res.status, 200);
    const id = res.body.toString().trim().split("/").pop()!;
    assert.equal((await raw(`${app.url}/${id}`, "GET")).body.toString(), "the file wins");
  });

  test("POST: the first text field wins over a file", async () => {
    const form = multipart([
      { name: "file", value: "file content", filename: "a.txt" },
      { name: "text", value: "text content" },
    ]);
    const res = await raw(`${app.url}/`, "POST", form.body, form.headers);
    const id = res.body.toString().trim().split("/").pop()!;
    assert.equal((await raw(`${app.url}/${id}`, "GET")).body.toString(), "text content");
  });

  test("POST errors: no parts, a blank field, a non-multipart body, a broken multipart body", async () => {
    const none = multipart([]);
    const noParts = await raw(`${app.url}/`, "POST", none.body, none.headers);
    assert.equal(noParts.status, 400);
    assert.equal(noParts.body.toString(), "form data or file is required\n");

    const blank = multipart([{ name: "_", value: "   \n" }]);
    const blankRes = await raw(`${app.url}/`, "POST", blank.body, blank.headers);
    assert.equal(blankRes.status, 400);
    assert.equal(blankRes.body.toString(), "empty body\n");

    for (const headers of [{ "Content-Type": "text/plain" }, { "Content-Type": "application/x-www-form-urlencoded" }, {}] as Record<string, string>[]) {
      const res = await raw(`${app.url}/`, "POST", "_=hello", headers);
      assert.equal(res.status, 400);
      assert.equal(res.body.toString(), "no valid multipart/form-data found\n");
    }

    const broken = await raw(`${app.url}/`, "POST", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nunterminated", {
      "Content-Type": "multipart/form-data; boundary=b",
    });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.toString(), "no valid multipart/form-data found\n");
  });

  test("POST over the size limit is 413, for a text field and for a file", async () => {
    const big = Buffer.alloc(2 * MIB + 1, "b");
    for (const part of [{ name: "_", value: big }, { name: "_", value: big, filename: "big.log" }]) {
      const form = multipart([part]);
      const res = await raw(`${app.url}/`, "POST", form.body, form.headers);
      assert.equal(res.status, 413, res.body.toString());
      assert.match(res.body.toString(), /limit is 2097152 bytes/);
    }
    const exact = multipart([{ name: "_", value: Buffer.alloc(2 * MIB, "c"), filename: "exact.log" }]);
    assert.equal((await raw(`${app.url}/`, "POST", exact.body, exact.headers)).status, 200);
  });

  test("200 concurrent PUTs get 200 distinct ids, all readable", async () => {
    const bodies = Array.from({ length: 200 }, (_, i) => `paste number ${i}\n`);
    const ids = await Promise.all(bodies.map((b) => putId(app, b)));
    assert.equal(new Set(ids).size, 200);
    for (const id of ids) assert.match(id, ID);
    const got = await Promise.all(ids.map((id) => raw(`${app.url}/${id}`, "GET")));
    assert.deepEqual(got.map((g) => g.body.toString()), bodies);
  });

  test("static files: logpaste.js at /static/js/ and the legacy /js/; favicon is 404", async () => {
    const current = await raw(`${app.url}/static/js/logpaste.js`, "GET");
    const legacy = await raw(`${app.url}/js/logpaste.js`, "GET");
    assert.equal(current.status, 200);
    assert.match(current.headers["content-type"]!, /javascript/);
    assert.ok(current.body.equals(legacy.body));
    assert.match(current.body.toString(), /uploadText/);
    assert.equal((await raw(`${app.url}/static/css/style.css`, "GET")).status, 200);
    assert.equal((await raw(`${app.url}/css/style.css`, "GET")).status, 200);
    assert.equal((await raw(`${app.url}/favicon.ico`, "GET")).status, 404);
  });

  test("/healthz answers 200 JSON with the database state, and is never cached", async () => {
    const res = await raw(`${app.url}/healthz`, "GET");
    assert.equal(res.status, 200);
    assert.match(res.headers["content-type"]!, /application\/json/);
    assert.equal(res.headers["cache-control"], "no-store");
    assert.deepEqual(JSON.parse(res.body.toString()), { status: "ok", database: "ok", replication: null });
  });

  test("other methods are 405 with an Allow header", async () => {
    const res = await raw(`${app.url}/abc`, "DELETE");
    assert.equal(res.status, 405);
    assert.match(res.headers.allow!, /PUT/);
  });
});

describe("the home page", () => {
  test("title and subtitle are escaped, the footer is raw HTML, the contract's element ids are there", async () => {
    const app = await startTestApp({ title: "<b>Logs</b> & co", subtitle: "\"quoted\" <i>", footer: '<p class="op">Run by <a href="/x">ops</a></p>' });
    try {
      const res = await raw(`${app.url}/`, "GET");
      assert.equal(res.status, 200);
      assert.match(res.headers["content-type"]!, /^text\/html/);
      const html = res.body.toString();
      assert.match(html, /<title>&#60;b&#62;Logs&#60;\/b&#62; &#38; co<\/title>/);
      assert.ok(!html.includes("<b>Logs</b>"));
      assert.ok(html.includes("&#34;quoted&#34; &#60;i&#62;"));
      assert.ok(html.includes('<p class="op">Run by <a href="/x">ops</a></p>'));
      for (const id of ["upload-textarea", "upload", "result", "form-upload-error", "curl-file-cmd", "more-info"]) assert.ok(html.includes(`id="${id}"`), id);
      assert.ok(html.includes("/static/js/logpaste.js"));
      assert.ok(html.includes(`curl -X PUT --data-binary @debug.log ${app.url}/`), "examples use the server's own URL");
      assert.match(html, /prefers-color-scheme|color-scheme/);
    } finally {
      await app.close();
    }
  });

  test("-showdocs=false hides the usage documentation", async () => {
    const shown = await startTestApp({ showDocs: true });
    const hidden = await startTestApp({ showDocs: false });
    try {
      assert.ok((await raw(`${shown.url}/`, "GET")).body.toString().includes('id="curl-cmd"'));
      const html = (await raw(`${hidden.url}/`, "GET")).body.toString();
      assert.ok(!html.includes('id="curl-cmd"'));
      assert.ok(!html.includes('id="js-example"'));
      assert.ok(html.includes('id="upload-textarea"'), "the form stays");
    } finally {
      await shown.close();
      await hidden.close();
    }
  });

  test("the Host header cannot inject markup into the page", async () => {
    const app = await startTestApp();
    try {
      const html = (await raw(`${app.url}/`, "GET", undefined, { Host: '"><script>alert(1)</script>' })).body.toString();
      assert.ok(!html.includes("<script>alert(1)</script>"));
    } finally {
      await app.close();
    }
  });
});

describe("rate limiting and proxies", () => {
  test("-perminutelimit answers 429 past the budget, per client IP, without 500s behind a proxy", async () => {
    const app = await startTestApp({ perMinuteLimit: 3, behindProxy: true });
    try {
      const from = (ip: string) => ({ "X-Forwarded-For": `203.0.113.7, ${ip}` });
      for (let i = 0; i < 3; i++) assert.equal((await put(app, `ok ${i}`, from("198.51.100.1"))).status, 200);
      const limited = await put(app, "one too many", from("198.51.100.1"));
      assert.equal(limited.status, 429);
      assert.equal(limited.body.toString(), "Too many requests. Wait a minute and try again\n");
      assert.equal(limited.headers["retry-after"], "60");
      // Another client behind the same proxy has its own budget; a forged left-most entry does not help.
      assert.equal((await put(app, "other client", from("198.51.100.2"))).status, 200);
      assert.equal((await put(app, "forged", { "X-Forwarded-For": "1.1.1.1, 198.51.100.1" })).status, 429);
      // POST counts against the same budget.
      const form = multipart([{ name: "_", value: "post" }]);
      assert.equal((await raw(`${app.url}/`, "POST", form.body, { ...form.headers, ...from("198.51.100.1") })).status, 429);
      // Garbage proxy headers fall back to the peer address instead of failing.
      for (const headers of [{ "X-Forwarded-For": "not-an-ip" }, { Forwarded: "for=unknown" }, { "X-Real-IP": "::::" }] as Record<string, string>[]) {
        assert.notEqual((await put(app, "garbage", headers)).status, 500);
      }
      // Reads are never limited.
      assert.equal((await raw(`${app.url}/AAAAAAAA`, "GET", undefined, from("198.51.100.1"))).status, 404);
    } finally {
      await app.close();
    }
  });

  test("POST answers https:// links behind a proxy and honours X-Forwarded-Proto/Host", async () => {
    const app = await startTestApp({ behindProxy: true });
    try {
      const form = multipart([{ name: "_", value: "proxied" }]);
      const plain = await raw(`${app.url}/`, "POST", form.body, { ...form.headers, Host: "paste.example" });
      assert.match(plain.body.toString(), /^https:\/\/paste\.example\/[A-Za-z0-9]{8}\n$/);
      const forwarded = await raw(`${app.url}/`, "POST", form.body, {
        ...form.headers,
        Host: "internal:3001",
        "X-Forwarded-Proto": "http",
        "X-Forwarded-Host": "logs.example.org",
      });
      assert.match(forwarded.body.toString(), /^http:\/\/logs\.example\.org\/[A-Za-z0-9]{8}\n$/);
    } finally {
      await app.close();
    }
  });

  test("without LP_BEHIND_PROXY forwarded headers are ignored", async () => {
    const app = await startTestApp({ perMinuteLimit: 2 });
    try {
      assert.equal((await put(app, "a", { "X-Forwarded-For": "10.0.0.1" })).status, 200);
      const form = multipart([{ name: "_", value: "direct" }]);
      const res = await raw(`${app.url}/`, "POST", form.body, { ...form.headers, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example" });
      assert.equal(res.status, 200);
      assert.ok(res.body.toString().startsWith(`${app.url}/`), res.body.toString());
      assert.equal((await put(app, "b", { "X-Forwarded-For": "10.0.0.2" })).status, 429, "same peer, same budget");
    } finally {
      await app.close();
    }
  });
});

describe("shutting down", () => {
  test("a request that reaches a closing server on a kept-alive connection gets a plain-text 503, and the upload before it is stored", async () => {
    const t = await startTestApp();
    const { port } = new URL(t.url);
    const socket = net.connect(Number(port), "127.0.0.1");
    await once(socket, "connect");
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    const ended = once(socket, "close");
    // An upload in flight when the server starts closing, and a second request right behind it.
    socket.write("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nfirst");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closed = t.app.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write("half\nPUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nsecond\n");
    await ended;
    await closed;
    const answers = received.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 2, received);
    assert.match(answers[0]!, /^HTTP\/1\.1 200 /);
    const id = (JSON.parse(answers[0]!.slice(answers[0]!.indexOf("\r\n\r\n") + 4)) as { id: string }).id;
    assert.match(answers[1]!, /^HTTP\/1\.1 503 /);
    assert.match(answers[1]!, /content-type: text\/plain/i);
    assert.match(answers[1]!, /\r\n\r\nthe server is shutting down; try again in a moment\n$/);
    assert.equal(t.store.get(id)?.contents.toString(), "firsthalf\n");
    await t.close();
  });
});
