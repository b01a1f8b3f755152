// Seeded random HTTP requests, well-formed and not: methods, paths, versions, headers,
// proxy headers, multipart boundaries and bodies of every kind a careless or hostile client
// might send, alone or pipelined several to a connection (randomBatch).

import { randomBytes } from "./workload.js";

export interface FuzzRequest {
  /** The raw bytes to send. */
  readonly bytes: Buffer;
  /** Framed exactly and asks to keep the connection: another request may follow it on the same connection. */
  readonly keepAlive: boolean;
  /** Whether the request line asks for HEAD (its answer has no body). */
  readonly head: boolean;
  /** A short account of what was sent, for failure messages. */
  readonly summary: string;
}

const MIB = 1024 * 1024;

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomText(random: () => number, length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~%/?#&=+;:@!$'()*, \t\"<>\\^`{|}";
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

function method(random: () => number): string {
  return pick(random, [
    "GET", "GET", "PUT", "PUT", "PUT", "POST", "POST", "POST", "HEAD", "OPTIONS", "DELETE", "PATCH", "TRACE", "CONNECT",
    "get", "put", "Post", "G3T", "PUTT", "", "\x00\x01", "M".repeat(1 + Math.floor(random() * 2000)), "PUT\tX",
    "PROPFIND", "MKCOL", "QUERY", "PURGE", "SEARCH", "LINK", "PRI", "ACL", "\u00e9",
  ]);
}

function target(random: () => number, ids: readonly string[]): string {
  const id = ids.length > 0 && random() < 0.5 ? pick(random, ids) : randomText(random, 8).replace(/[^A-Za-z0-9]/g, "x");
  return pick(random, [
    "/", "/", `/${id}`, `/${id}`, `/${id}/raw`, `/${id}?x=1`, `/${id.toLowerCase()}`, "/healthz", "/favicon.ico",
    "/static/js/logpaste.js", "/js/logpaste.js", "/static/../../package.json", "/static/%2e%2e/%2e%2e/package.json",
    "/../../etc/passwd", "/..%2f..%2fetc%2fpasswd", "/%", "/%zz", "/%c0%af", "/%00", "/%ff%fe", "/\u00e9t\u00e9/\u2603",
    `/${"a".repeat(300)}`, `/${"b".repeat(1 + Math.floor(random() * 9000))}`, "*", "http://evil.example/", "",
    `/?q=${randomText(random, 40)}`, `/${randomText(random, 1 + Math.floor(random() * 30))}`, "//", "/static/", "/static/%",
    "/metrics", "/healthz?verbose=1", "/static/.env", "/static/js/../../../etc/passwd", "/static/js/logpaste.js%00.png",
    `http://127.0.0.1/${id}`, "/;", "/?", "/#frag", `/${id}#x`, "/static//js//logpaste.js", "/%2F", "/\\..\\..\\x",
  ]);
}

function version(random: () => number): string {
  return random() < 0.85 ? "HTTP/1.1" : pick(random, ["HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "HTTP/1.1x", "HTTPS/1.1", "", "http/1.1"]);
}

function multipart(random: () => number, boundary: string, body: Buffer): Buffer {
  const parts: Buffer[] = [];
  if (random() < 0.1) parts.push(Buffer.from("a preamble before the first boundary\r\n"));
  const count = random() < 0.1 ? 120 : 1 + Math.floor(random() * 3);
  for (let i = 0; i < count; i++) {
    const file = random() < 0.4;
    const disposition = file
      ? pick(random, [`form-data; name="f${i}"; filename="log${i}.txt"`, `form-data; name="f"; filename*=UTF-8''%E2%82%AC.txt`, `form-data; name="f"; filename="../../x"`])
      : pick(random, [`form-data; name="_"`, "form-data", "attachment", "", `form-data; name="${randomText(random, 5)}`, `form-data; name="_"; name="__"`]);
    const partType = pick(random, [
      file ? "Content-Type: application/octet-stream\r\n" : "", "", "Content-Type: application/json\r\n", "Content-Type: text/plain; charset=utf-16le\r\n",
      "Content-Type: multipart/mixed; boundary=inner\r\n", "Content-Transfer-Encoding: base64\r\n", `X-Part: ${randomText(random, 20)}\r\n`,
    ]);
    const eol = random() < 0.05 ? "\n" : "\r\n";
    parts.push(Buffer.from(`--${boundary}${eol}Content-Disposition: ${disposition}${eol}${partType}${eol}`), body, Buffer.from("\r\n"));
  }
  if (random() < 0.8) parts.push(Buffer.from(`--${boundary}--\r\n`));
  const whole = Buffer.concat(parts);
  // Sometimes truncated in the middle of a part.
  return random() < 0.15 ? whole.subarray(0, Math.floor(random() * whole.length)) : whole;
}

function body(random: () => number): Buffer {
  const r = random();
  if (r < 0.15) return Buffer.alloc(0);
  if (r < 0.22) return Buffer.from(pick(random, [" ", "\r\n\t ", "\u00a0\u2028", "\ufeff"]));
  if (r < 0.55) return randomBytes(random, 4 + Math.floor(random() * 3000));
  if (r < 0.9) return Buffer.from(randomText(random, 1 + Math.floor(random() * 3000)));
  if (r < 0.97) return randomBytes(random, 20_000 + Math.floor(random() * 200_000));
  return randomBytes(random, 2 * MIB + 1 + Math.floor(random() * 4096)); // over the 2 MiB limit
}

function contentType(random: () => number): { header: string | null; boundary: string | null } {
  const boundary = pick(random, [
    "----fuzz" + randomText(random, 10).replace(/[^A-Za-z0-9]/g, "z"), "x", "", "\"quoted boundary\"", "b".repeat(100), "b".repeat(3000), "a;b=c", "\u00e9",
  ]);
  const header = pick(random, [
    null, "text/plain", "application/json", "application/x-www-form-urlencoded", "application/octet-stream", "multipart/form-data",
    `multipart/form-data; boundary=${boundary}`, `multipart/form-data; boundary=${boundary}`, `multipart/form-data; boundary=${boundary}`,
    `multipart/form-data; boundary=${boundary}; boundary=other`, "multipart/mixed; boundary=x", "garbage", ";;;", "text/plain; charset=\u00ff",
  ]);
  return { header, boundary: header?.includes("boundary=") ? boundary.replace(/^"(.*)"$/, "$1") : null };
}

/**
 * One random request; `ids` are pastes known to exist, so that reads of real ones happen too.
 * Half are well-framed HTTP/1.1 (a real method, right length, sane headers) so that they
 * reach the routes with their odd paths, types and bodies; the other half break the framing too.
 */
export function randomRequest(random: () => number, ids: readonly string[], options: { keepAlive?: boolean } = {}): FuzzRequest {
  const keepAlive = options.keepAlive ?? false;
  const framed = keepAlive || random() < 0.5;
  const odd = (p: number) => !framed && random() < p;
  const m = framed ? pick(random, ["GET", "PUT", "PUT", "POST", "POST", "HEAD", "OPTIONS"]) : method(random);
  const path = target(random, ids);
  const v = framed ? "HTTP/1.1" : version(random);
  const { header: type, boundary } = contentType(random);
  let payload = body(random);
  if (boundary !== null && random() < 0.8) payload = multipart(random, random() < 0.85 ? boundary : "not-the-boundary", payload.subarray(0, 4000));

  const headers: string[] = [];
  if (!odd(0.1)) headers.push(`Host: ${odd(0.1) ? randomText(random, 20) : "127.0.0.1"}`);
  if (odd(0.05)) headers.push("Host: second.example");
  if (type !== null) headers.push(`Content-Type: ${type}`);
  // A request another follows on the same connection is framed exactly: Content-Length or well-formed chunks.
  const framing = keepAlive ? (random() < 0.85 ? 0 : 0.85) : framed ? random() * 0.6 : random();
  if (framing < 0.6) headers.push(`Content-Length: ${payload.length}`);
  else if (framing < 0.68) headers.push(`Content-Length: ${payload.length + 1 + Math.floor(random() * 100)}`); // the body falls short
  else if (framing < 0.74) headers.push(`Content-Length: ${Math.max(0, payload.length - 1 - Math.floor(random() * 10))}`); // extra bytes follow
  else if (framing < 0.78) headers.push(pick(random, ["Content-Length: -1", "Content-Length: abc", "Content-Length: 99999999999999999999", "Content-Length: 1e3", "Content-Length: 0x10", "Content-Length:"]));
  else if (framing < 0.81) headers.push(`Content-Length: ${payload.length}`, `Content-Length: ${payload.length + 5}`);
  else if (framing < 0.9) {
    headers.push("Transfer-Encoding: chunked");
    const chunked = keepAlive || random() < 0.8
      ? Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from("\r\n0\r\n\r\n")])
      : Buffer.concat([Buffer.from(pick(random, ["zz\r\n", "ffffffffffff\r\n", "5\r\nab"])), payload]);
    payload = payload.length === 0 && random() < 0.5 ? Buffer.from("0\r\n\r\n") : chunked;
    if (!keepAlive && random() < 0.3) headers.push(`Content-Length: ${payload.length}`);
  }
  // The server runs behind a (pretend) proxy: these reach the client-address parser on well-framed requests too.
  if (random() < 0.15) headers.push(`X-Forwarded-For: ${pick(random, ["1.2.3.4", "::1, 999.1.1.1", "", "\u00ff\u00fe", "a".repeat(5000), "2001:DB8::7", "[2001:db8::7]:80", "::ffff:1.2.3.4", "unknown", ",,,", "1.2.3.4, fe80::1%eth0", "1.1.1.1,".repeat(500)])}`);
  if (random() < 0.1) headers.push(`Forwarded: ${pick(random, ["for=1.2.3.4", 'for="[2001:db8::1]:4711";proto=https', "for=unknown", 'for="_hidden", for=1.2.3.4', 'for="unterminated', "for=", ";;;,,,", 'for="\\"', "proto=http;host=x"])}`);
  if (random() < 0.1) headers.push(`X-Real-IP: ${pick(random, ["9.9.9.9", "x", "::", "1.1.1.1, 2.2.2.2", ""])}`);
  if (random() < 0.05) headers.push(`X-Forwarded-${pick(random, ["Host", "Proto"])}: ${pick(random, ["evil.example", "https", "", "a b", "\u00e9", "x".repeat(3000), "http, https"])}`);
  if (random() < 0.05) headers.push(`Origin: ${pick(random, ["https://evil.example", "null", ""])}`);
  if (random() < 0.05) headers.push(`Accept-Encoding: ${pick(random, ["gzip, br", "*", "identity;q=0", ""])}`);
  if (random() < 0.05) headers.push(`Range: ${pick(random, ["bytes=0-10", "bytes=-1", "bytes=9999999-", "bytes=a-b", "bytes=0-1,2-3"])}`);
  if (odd(0.05)) headers.push(pick(random, ["Upgrade: websocket", "Upgrade: h2c", "Content-Encoding: gzip", "Transfer-Encoding: chunked, identity", "Transfer-Encoding: Chunked", " folded: continuation"]));
  if (odd(0.05)) headers.push(`X-Big: ${"v".repeat(10_000 + Math.floor(random() * 70_000))}`); // past Node's header limit
  if (odd(0.05)) for (let i = 0; i < 150; i++) headers.push(`X-Many-${i}: ${i}`);
  if (odd(0.05)) headers.push(pick(random, ["no colon here", ": empty name", "Bad Name: x", "X-Bin: \x01\x02\x7f", `X-Latin: \u00e9\u00ff`]));
  if (random() < 0.05) headers.push(`If-None-Match: ${pick(random, ["*", '"x", W/"y"', "", ",,,"])}`);
  if (odd(0.05)) headers.push(`Expect: ${pick(random, ["100-continue", "something"])}`);
  if (keepAlive) headers.push("Connection: keep-alive");
  else headers.push(!odd(0.2) ? "Connection: close" : pick(random, ["Connection: keep-alive", "Connection: upgrade", "Connection: \u00e9"]));
  const eol = odd(0.05) ? "\n" : "\r\n";
  const requestLine = !odd(0.06) ? `${m} ${path} ${v}` : pick(random, [`${m}  ${path}`, m, `${m} ${path} ${v} extra`, "\r\n"]);
  const head = Buffer.from(`${requestLine}${eol}${headers.join(eol)}${eol}${eol}`, odd(0.2) ? "latin1" : "utf8");
  const bytes = Buffer.concat([head, payload]);
  const summary = `${JSON.stringify(requestLine.slice(0, 120))} [${headers.map((h) => h.slice(0, 80)).join(" | ")}] body ${payload.length} bytes`;
  return { bytes, head: m === "HEAD", keepAlive, summary };
}

/**
 * The requests for one connection: half the time one request of any kind; otherwise 2 to 6
 * well-framed keep-alive requests pipelined back to back, sometimes followed by one of any kind.
 */
export function randomBatch(random: () => number, ids: readonly string[]): FuzzRequest[] {
  if (random() < 0.5) return [randomRequest(random, ids)];
  const batch = Array.from({ length: 2 + Math.floor(random() * 5) }, () => randomRequest(random, ids, { keepAlive: true }));
  if (random() < 0.5) batch.push(randomRequest(random, ids));
  return batch;
}
