// Issue 12's upload findings, reproduced against a real server process: memory a form can
// make the server hold (M1), the server-wide budget of upload bytes in flight, byte-exact
// form parts whatever their declared type or charset (M3), an ignored large part, and the
// origin of the link a POST is answered with (-baseurl, a checked Host).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { holdUpload, type HeldUpload } from "../testkit/held-upload.js";
import { failCli, serveCli, type ServedProcess } from "../testkit/litepaste-process.js";
import { peakRssBytes } from "../testkit/process-memory.js";
import { rawExchange, type RawOutcome } from "../testkit/raw-http.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { until } from "../testkit/wait.js";

const MIB = 1024 * 1024;
const BOUNDARY = "litepaste-limits-boundary";
const FORM_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const newDir = useScratchDirs("litepaste-upload-limits");

interface Part {
  readonly name?: string;
  readonly filename?: string;
  readonly type?: string;
  readonly body: Buffer | string;
}

/** One part's head, as curl -F writes it: `_=<file;type=…` has no filename, `_=@file` has one. */
function partHead({ name = "_", filename, type }: Omit<Part, "body">): string {
  const disposition = `form-data; name="${name}"${filename === undefined ? "" : `; filename="${filename}"`}`;
  return `--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${type ? `Content-Type: ${type}\r\n` : ""}\r\n`;
}

const FORM_END = `--${BOUNDARY}--\r\n`;

function form(parts: readonly Part[]): Buffer {
  return Buffer.concat([...parts.flatMap((p) => [Buffer.from(partHead(p)), Buffer.from(p.body), Buffer.from("\r\n")]), Buffer.from(FORM_END)]);
}

async function post(server: ServedProcess, body: Buffer, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/`, { method: "POST", headers: { "Content-Type": FORM_TYPE, ...headers }, body });
}

async function pasteBytes(server: ServedProcess, link: string): Promise<Buffer> {
  const id = link.trim().split("/").pop()!;
  return Buffer.from(await (await fetch(`${server.url}/${id}`)).arrayBuffer());
}

function response(outcome: RawOutcome) {
  assert.equal(outcome.kind, "response", `expected an HTTP answer, got ${outcome.kind}`);
  return outcome as Extract<RawOutcome, { kind: "response" }>;
}

async function metric(server: ServedProcess, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  assert.ok(line, `${name} in /metrics`);
  return Number(line[1]);
}

const port = (server: ServedProcess) => Number(new URL(server.url).port);

describe("the default server", () => {
  let server: ServedProcess;
  before(async () => {
    server = await serveCli({ DB_PATH: path.join(newDir("default"), "store.db") });
  });
  after(() => server.stop());

  test("8 concurrent POSTs of 100 text fields × 2 MiB each get a clear 413 early, the server stays under 256 MB and keeps serving", async () => {
    const field = Buffer.alloc(2 * MIB, "f");
    const head = partHead({});
    const length = 100 * (Buffer.byteLength(head) + field.length + 2) + FORM_END.length;
    const stream = async (upload: HeldUpload) => {
      for (let i = 0; i < 100; i++) {
        if (!(await upload.send(head)) || !(await upload.send(field)) || !(await upload.send("\r\n"))) return;
      }
      await upload.send(FORM_END);
    };
    const uploads = Array.from({ length: 8 }, () =>
      holdUpload(port(server), `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${FORM_TYPE}\r\nContent-Length: ${length}\r\n\r\n`),
    );
    const sending = Promise.all(uploads.map(stream));
    // Serving while the forms arrive.
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    for (const upload of uploads) {
      const answer = response(await upload.answer);
      assert.equal(answer.status, 413);
      assert.match(answer.body.toString(), /^form too long: all its parts together may hold at most 5242880 bytes/);
      upload.destroy();
    }
    await sending;
    const peak = peakRssBytes(server.pid);
    assert.ok(peak < 256 * MIB, `peak RSS ${(peak / MIB).toFixed(0)} MiB`);
    const put = await fetch(`${server.url}/`, { method: "PUT", body: "still serving" });
    assert.equal(put.status, 200);
    // Each refused form gives its bytes back once its connection has closed.
    await until("every upload to give its bytes back", async () => (await metric(server, "litepaste_upload_inflight_bytes")) === 0, { detail: server.output });
  });

  test("40 concurrent 2 MiB PUTs each get 200 or a 503 with Retry-After, and the server stays under 256 MB", async () => {
    const body = Buffer.alloc(2 * MIB, "p");
    const answers = await Promise.all(Array.from({ length: 40 }, () => fetch(`${server.url}/`, { method: "PUT", body })));
    for (const res of answers) {
      const text = await res.text();
      if (res.status === 503) {
        assert.equal(res.headers.get("retry-after"), "5");
        assert.equal(text, "the server is busy receiving other uploads; try again in a few seconds\n");
      } else assert.equal(res.status, 200, text);
    }
    const peak = peakRssBytes(server.pid);
    assert.ok(peak < 256 * MIB, `peak RSS ${(peak / MIB).toFixed(0)} MiB`);
  });

  test("a part's bytes are the paste, whatever type or charset it declares (curl -F '_=<j.json;type=application/json')", async () => {
    const cases: Part[] = [
      { type: "application/json", body: '{"a":1,"big":12345678901234567890}\n' },
      { type: "text/plain;charset=utf-8", body: Buffer.from("héllo €\n", "utf8") },
      { type: "text/plain; charset=utf-16le", body: Buffer.from("héllo €\n", "utf16le") },
      { type: "text/plain; charset=iso-8859-1", body: Buffer.from([0x68, 0xe9, 0x0a]) },
      { type: "application/json", filename: "j.json", body: '{"n":1e400}' },
      { type: "text/plain; charset=utf-8", body: Buffer.from([0xc3, 0x28, 0xff, 0x00, 0x0d, 0x0a]) },
    ];
    for (const part of cases) {
      const res = await post(server, form([part]));
      const link = await res.text();
      assert.equal(res.status, 200, link);
      assert.deepEqual(await pasteBytes(server, link), Buffer.from(part.body), `${part.type}${part.filename ? " (file)" : ""}`);
    }
  });

  test("ignored parts are skipped, however large: a second file over 2 MiB does not reject the upload", async () => {
    const big = Buffer.alloc(3 * MIB, "i");
    const textFirst = await post(server, form([{ body: "the text wins" }, { filename: "big.log", body: big }]));
    assert.equal(textFirst.status, 200);
    assert.equal((await pasteBytes(server, await textFirst.text())).toString(), "the text wins");
    const fileFirst = await post(server, form([{ filename: "small.log", body: "the first file" }, { filename: "big.log", body: big }]));
    assert.equal(fileFirst.status, 200);
    assert.equal((await pasteBytes(server, await fileFirst.text())).toString(), "the first file");
    // A file held, then replaced by a text field: the text is the paste.
    const replaced = await post(server, form([{ filename: "a.log", body: Buffer.alloc(MIB, "a") }, { body: "" }, { body: "text after a file" }, { filename: "b.log", body: big }]));
    assert.equal(replaced.status, 200);
    assert.equal((await pasteBytes(server, await replaced.text())).toString(), "text after a file");
    // But a form is not an unbounded stream: past twice the paste limit and 1 MiB it is refused.
    const tooLong = await post(server, form([{ body: "paste" }, { filename: "1", body: big }, { filename: "2", body: big }]));
    assert.equal(tooLong.status, 413);
    assert.match(await tooLong.text(), /^form too long/);
  });

  test("a bad Host gets 400 and stores nothing; a good one is echoed", async () => {
    const stored = await metric(server, "litepaste_pastes_stored_total");
    const body = form([{ body: "hello" }]);
    for (const host of ["evil.example/phish?x=", "a b", "x@evil.example", "example.com:99999", '"><script>']) {
      const request = Buffer.concat([
        Buffer.from(`POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${FORM_TYPE}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`),
        body,
      ]);
      const answer = response(await rawExchange(port(server), request, { head: false, timeoutMs: 60_000 }));
      assert.equal(answer.status, 400, host);
      assert.equal(answer.body.toString(), "invalid Host header: expected a host name or address, optionally with :port\n");
    }
    assert.equal(await metric(server, "litepaste_pastes_stored_total"), stored, "nothing stored for a refused Host");
    for (const host of ["paste.example.com", "paste.example.com:8443", "[2001:db8::1]:3001", "192.0.2.7"]) {
      const request = Buffer.concat([Buffer.from(`POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${FORM_TYPE}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]);
      const answer = response(await rawExchange(port(server), request, { head: false, timeoutMs: 60_000 }));
      assert.equal(answer.status, 200, host);
      assert.ok(answer.body.toString().startsWith(`http://${host}/`), answer.body.toString());
    }
  });
});

test("the in-flight budget: uploads past -maxinflight get 503 with Retry-After, and the bytes are given back", async () => {
  const server = await serveCli({ DB_PATH: path.join(newDir("budget"), "store.db") }, { args: ["-maxsize", "1", "-maxinflight", "2"] });
  try {
    assert.equal(await metric(server, "litepaste_upload_inflight_limit_bytes"), 2 * MIB);
    const inFlight = (bytes: number) => until(`${bytes} upload bytes in flight`, async () => (await metric(server, "litepaste_upload_inflight_bytes")) === bytes, { detail: server.output });
    // Two uploads that declare the largest paste and send only their first byte hold the whole budget.
    const held = [holdUpload(port(server), `PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: ${MIB}\r\n\r\n`), holdUpload(port(server), `PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: ${MIB}\r\n\r\n`)];
    for (const upload of held) await upload.send("x");
    await inFlight(2 * MIB);

    const busy = async (res: Response) => {
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "5");
      assert.equal(await res.text(), "the server is busy receiving other uploads; try again in a few seconds\n");
    };
    await busy(await fetch(`${server.url}/`, { method: "PUT", body: "declared length" }));
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("streamed, no length"));
        controller.close();
      },
    });
    await busy(await fetch(`${server.url}/`, { method: "PUT", body: chunked, duplex: "half" } as RequestInit));
    await busy(await post(server, form([{ body: "a form" }])));
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200, "reads are not refused");

    // One held upload gives up: its share comes back and a full-size paste fits beside the other.
    held[0]!.destroy();
    await inFlight(MIB);
    const full = await fetch(`${server.url}/`, { method: "PUT", body: Buffer.alloc(MIB, "m") });
    assert.equal(full.status, 200, await full.text());
    // The other finishes its body: stored, and the budget is whole again.
    await held[1]!.send(Buffer.alloc(MIB - 1, "y"));
    assert.equal(response(await held[1]!.answer).status, 200);
    await inFlight(0);
  } finally {
    await server.stop();
  }
});

test("-maxinflight below -maxsize and a -baseurl that is not an origin are refused at start-up", async () => {
  const small = await failCli({}, ["-maxsize", "4", "-maxinflight", "3"]);
  assert.equal(small.code, 2, small.output);
  assert.match(small.output, /invalid value "3" for -maxinflight \(UPLOAD_MAX_INFLIGHT_MIB\): expected at least -maxsize \(4 MiB\)/);
  for (const bad of ["paste.example.com", "ftp://paste.example.com", "https://paste.example.com/sub/", "https://user:pw@paste.example.com", "https://paste.example.com/?a=1"]) {
    const res = await failCli({ BASE_URL: bad });
    assert.equal(res.code, 2, res.output);
    assert.match(res.output, /for BASE_URL: expected an http:\/\/ or https:\/\/ origin/);
  }
});

test("BASE_URL pins the link a POST is answered with, whatever Host or X-Forwarded-Host say", async () => {
  const server = await serveCli({ DB_PATH: path.join(newDir("baseurl"), "store.db"), BASE_URL: "https://paste.example.com/", LP_BEHIND_PROXY: "1" });
  try {
    const body = form([{ body: "pinned" }]);
    for (const host of ["evil.example", "bad host/"]) {
      const request = Buffer.concat([
        Buffer.from(`POST / HTTP/1.1\r\nHost: ${host}\r\nX-Forwarded-Host: ${host}\r\nX-Forwarded-Proto: http\r\nContent-Type: ${FORM_TYPE}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`),
        body,
      ]);
      const answer = response(await rawExchange(port(server), request, { head: false, timeoutMs: 60_000 }));
      assert.equal(answer.status, 200);
      assert.match(answer.body.toString(), /^https:\/\/paste\.example\.com\/[A-Za-z0-9]{8}\n$/);
    }
    assert.ok((await (await fetch(`${server.url}/`)).text()).includes("https://paste.example.com"), "the home page's examples use it too");
  } finally {
    await server.stop();
  }
});

test("behind a proxy, a bad X-Forwarded-Host or X-Forwarded-Proto gets 400", async () => {
  const server = await serveCli({ DB_PATH: path.join(newDir("proxy"), "store.db"), LP_BEHIND_PROXY: "1" });
  try {
    const body = form([{ body: "proxied" }]);
    const ask = (headers: Record<string, string>) => post(server, body, headers);
    const badHost = await ask({ "X-Forwarded-Host": "evil.example/x" });
    assert.equal(badHost.status, 400);
    assert.equal(await badHost.text(), "invalid X-Forwarded-Host header: expected a host name or address, optionally with :port\n");
    const badProto = await ask({ "X-Forwarded-Host": "logs.example.org", "X-Forwarded-Proto": "javascript" });
    assert.equal(badProto.status, 400);
    assert.equal(await badProto.text(), "invalid X-Forwarded-Proto header: expected http or https\n");
    const good = await ask({ "X-Forwarded-Host": "logs.example.org", "X-Forwarded-Proto": "HTTPS" });
    assert.match(await good.text(), /^https:\/\/logs\.example\.org\/[A-Za-z0-9]{8}\n$/);
  } finally {
    await server.stop();
  }
});
