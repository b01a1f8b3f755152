// Content-Type matters only to a multipart POST (docs/design/logpaste-api.md). PUT
// stores the raw body whatever a client declares, as LogPaste does; POST and OPTIONS answer a
// malformed type as the contract says (400, 200), not with 415. Found by test/fuzz.test.ts:
// a type that is not type/subtype got 415, and a multipart one got "empty body" on PUT.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startTestApp, type TestApp } from "../testkit/app-server.js";

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const CONTENT_TYPES = [
  "garbage",
  ";;;",
  "multipart/form-data",
  "multipart/form-data; boundary=x",
  "application/x-www-form-urlencoded",
  "application/json",
];

for (const contentType of CONTENT_TYPES) {
  test(`PUT with Content-Type ${JSON.stringify(contentType)} stores the raw body`, async () => {
    const body = Buffer.from(`--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n{not json} a=1&b=2\r\n--x--\r\n\x00\xff`, "latin1");
    const put = await fetch(`${app.url}/`, { method: "PUT", headers: { "Content-Type": contentType }, body });
    assert.equal(put.status, 200, await put.clone().text());
    const { id } = (await put.json()) as { id: string };
    const stored = Buffer.from(await (await fetch(`${app.url}/${id}`)).arrayBuffer());
    assert.ok(stored.equals(body), `stored ${JSON.stringify(stored.toString("latin1"))}`);
  });
}

for (const contentType of ["garbage", ";;;", "text/plain", "application/json"]) {
  test(`POST with Content-Type ${JSON.stringify(contentType)} is told a multipart form is expected (400, not 415)`, async () => {
    const post = await fetch(`${app.url}/`, { method: "POST", headers: { "Content-Type": contentType }, body: "text=hello" });
    assert.equal(post.status, 400);
    assert.equal(await post.text(), "no valid multipart/form-data found\n");
  });

  test(`OPTIONS with Content-Type ${JSON.stringify(contentType)} still answers the CORS preflight`, async () => {
    const options = await fetch(`${app.url}/`, { method: "OPTIONS", headers: { "Content-Type": contentType }, body: "x" });
    assert.equal(options.status, 200);
    assert.equal(options.headers.get("access-control-allow-methods"), "GET, PUT");
  });
}
