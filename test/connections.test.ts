// Issue 12, M2 and the low findings at the surface, against a real server process: a body
// trickled byte by byte is cut off with 408 while others are served; past the connection cap
// a client gets 503 and the next is served once one closes; Node's and the router's refusals
// are plain text like every other error; /static/ serves no dotfile and no symlink out of
// its root; the home page and pastes carry their security headers; with METRICS_ADDR, the
// public /healthz shows only what is ok and the details are on the private port.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { serveCli, type ServedProcess } from "../testkit/litepaste-process.js";
import { freePort } from "../testkit/ports.js";
import { rawConnection, rawExchange, type RawOutcome } from "../testkit/raw-http.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { HANG_TIMEOUT_MS, until } from "../testkit/wait.js";
import { WEB_ROOT } from "../server/web/web-root.js";

const newDir = useScratchDirs("connections-test");
const REQUEST_TIMEOUT_S = 5;
const MAX_CONNECTIONS = 4;

let server: ServedProcess;
let port: number;
before(async () => {
  server = await serveCli({
    DB_PATH: path.join(newDir("db"), "store.db"),
    LP_REQUEST_TIMEOUT: `${REQUEST_TIMEOUT_S}s`,
    LP_HEADERS_TIMEOUT: "2s",
  });
  port = Number(new URL(server.url).port);
});
after(async () => {
  assert.equal(await server.stop(), 0, server.output());
});

/** The outcome is a plain-text answer with this status, its text matching `text`; and the connection is closed. */
function assertPlainText(outcome: RawOutcome, status: number, text: RegExp): void {
  assert.equal(outcome.kind, "response", JSON.stringify(outcome));
  if (outcome.kind !== "response") return;
  assert.equal(outcome.status, status, outcome.body.toString());
  assert.equal(outcome.headers.get("content-type"), "text/plain; charset=utf-8");
  const body = outcome.body.toString();
  assert.match(body, text);
  assert.ok(body.endsWith("\n") && !body.includes("{"), `plain text, not JSON: ${JSON.stringify(body)}`);
}

const exchange = (request: string) => rawExchange(port, Buffer.from(request, "latin1"), { head: false, timeoutMs: HANG_TIMEOUT_MS });

test("M2: a PUT body trickled 1 byte at a time is cut off with 408 plain text after LP_REQUEST_TIMEOUT, and others are served meanwhile", async () => {
  const trickle = rawConnection(port, { timeoutMs: HANG_TIMEOUT_MS });
  trickle.write("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
  let sent = 0;
  const dripping = (async () => {
    while (!trickle.settled) {
      trickle.write("a");
      sent++;
      await sleep(500);
    }
  })();
  // The trickle has the whole request timeout to run; a local upload takes a fraction of it.
  const put = await fetch(`${server.url}/`, { method: "PUT", body: "served while another trickles" });
  assert.equal(put.status, 200);
  assert.equal(trickle.settled, false, "the trickle was still open while the other upload was served");
  const outcome = await trickle.outcome;
  await dripping;
  assertPlainText(outcome, 408, /^request timeout/);
  assert.ok(sent < 100000, `cut off after ${sent} bytes`);
  assert.equal((await fetch(`${server.url}/`)).status, 200, "the server goes on serving");
});

test("M2: a connection over LP_MAX_CONNECTIONS gets 503 plain text with Retry-After at once; once one closes, the next is served", async () => {
  // Timeouts far longer than the test: the holders stay open until they are closed.
  const capped = await serveCli({ DB_PATH: path.join(newDir("capped-db"), "store.db"), LP_MAX_CONNECTIONS: String(MAX_CONNECTIONS), LP_HEADERS_TIMEOUT: "10m", LP_REQUEST_TIMEOUT: "10m" });
  const cappedPort = Number(new URL(capped.url).port);
  const exchange = (request: string) => rawExchange(cappedPort, Buffer.from(request, "latin1"), { head: false, timeoutMs: HANG_TIMEOUT_MS });
  // Each holder has sent half its headers: open, counted, and waiting.
  const holders = Array.from({ length: MAX_CONNECTIONS }, () => {
    const c = rawConnection(cappedPort, { timeoutMs: HANG_TIMEOUT_MS });
    c.write("GET / HTTP/1.1\r\nHost: x\r\n");
    return c;
  });
  try {
    // The server takes connections in the order they arrived: the holders are in before this one.
    await until("the holders are counted", async () => {
      const refused = await exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      if (refused.kind === "response" && refused.status === 200) return false; // a holder was not accepted yet
      assertPlainText(refused, 503, /too many connections/);
      assert.equal(refused.kind === "response" && refused.headers.get("retry-after"), "5");
      return true;
    });
  } finally {
    for (const c of holders) c.close();
  }
  try {
    await until("a connection is served again", async () => {
      const res = await exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      return res.kind === "response" && res.status === 200;
    });
  } finally {
    assert.equal(await capped.stop(), 0, capped.output());
  }
});

test("Node's and the router's refusals are plain text, never JSON and never echoing the URL", async () => {
  assertPlainText(await exchange("GEX / HTTP/1.1\r\n\r\n"), 400, /^bad request/);
  assertPlainText(await exchange(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20000)}\r\n\r\n`), 431, /header fields too large/);
  assertPlainText(await exchange(`GET /${"a".repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`), 431, /header fields too large/);
  assertPlainText(await exchange("GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 400, /^bad request: the URL is not valid/);
  assertPlainText(await exchange(`GET /${"a".repeat(300)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), 414, /^URI too long/);
  assertPlainText(
    await exchange("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab"),
    400,
    /^no valid multipart\/form-data found/,
  );
  // Over fetch: @fastify/static 10 drops a static request whose client has half-closed, as rawExchange does.
  const nul = await fetch(`${server.url}/static/x%00.js`);
  assert.equal(nul.status, 404);
  assert.equal(nul.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(await nul.text(), "not found\n");
  // Headers begun but never finished: cut off after LP_HEADERS_TIMEOUT (the client's end is held open).
  const silent = rawConnection(port, { timeoutMs: HANG_TIMEOUT_MS });
  silent.write("GET / HTTP/1.1\r\nHost: x\r\n");
  assertPlainText(await silent.outcome, 408, /^request timeout/);
});

test("/static/ serves no dotfile and no symlink that leads out of its root: 404 plain text", async () => {
  const outside = path.join(newDir("outside"), "secret.js");
  fs.writeFileSync(outside, "outside the web root\n");
  const dotfile = path.join(WEB_ROOT, "static", `.probe-${process.pid}`);
  const link = path.join(WEB_ROOT, "static", "js", `probe-${process.pid}.js`);
  fs.writeFileSync(dotfile, "a dotfile\n");
  fs.symlinkSync(outside, link);
  try {
    for (const url of [`/static/.probe-${process.pid}`, `/static/js/probe-${process.pid}.js`, `/js/probe-${process.pid}.js`]) {
      const res = await fetch(`${server.url}${url}`);
      assert.equal(res.status, 404, url);
      assert.equal(await res.text(), "not found\n", url);
    }
    assert.equal((await fetch(`${server.url}/static/js/logpaste.js`)).status, 200, "files under the root are still served");
  } finally {
    fs.rmSync(dotfile);
    fs.rmSync(link);
  }
});

test("the home page has a CSP without inline script or style, no framing and no referrer; a paste is sandboxed and not sniffed", async () => {
  const home = await fetch(`${server.url}/`);
  const csp = home.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(home.headers.get("x-frame-options"), "DENY");
  assert.equal(home.headers.get("referrer-policy"), "no-referrer");
  // The policy allows no inline code: the page must have none, or it would not work.
  const html = await home.text();
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, "no inline <script>");
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, "no inline style or event handler");

  const { id } = (await (await fetch(`${server.url}/`, { method: "PUT", body: "<script>alert(1)</script>" })).json()) as { id: string };
  const paste = await fetch(`${server.url}/${id}`);
  assert.equal(paste.headers.get("content-security-policy"), "default-src 'none'; sandbox");
  assert.equal(paste.headers.get("x-content-type-options"), "nosniff");
  assert.equal(paste.headers.get("access-control-allow-origin"), "*", "still readable cross-origin");
});

test("with METRICS_ADDR, the public /healthz shows only what is ok; the details (replica target …) are on the metrics port", async () => {
  const replica = newDir("replica");
  const metricsPort = await freePort();
  const withMetrics = await serveCli({
    DB_PATH: path.join(newDir("metrics-db"), "store.db"),
    DB_REPLICA_URL: replica,
    METRICS_ADDR: `127.0.0.1:${metricsPort}`,
  });
  try {
    const pub = await fetch(`${withMetrics.url}/healthz`);
    assert.equal(pub.status, 200);
    assert.deepEqual(await pub.json(), { status: "ok", database: "ok", replication: { mode: "async", healthy: true } });
    const full = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    assert.equal(full.status, 200);
    assert.equal(full.headers.get("cache-control"), "no-store");
    const body = (await full.json()) as { status: string; replication: { target: string; lastError: unknown } };
    assert.equal(body.status, "ok");
    assert.ok(body.replication.target.includes(replica), JSON.stringify(body));
    assert.ok("lastError" in body.replication, JSON.stringify(body));
  } finally {
    assert.equal(await withMetrics.stop(), 0, withMetrics.output());
  }
});
