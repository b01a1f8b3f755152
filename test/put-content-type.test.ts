// PUT ignores Content-Type, as LogPaste does (../shared/design/logpaste-api.md): whatever a
// client declares, the raw body is the paste, byte for byte. Found by test/fuzz.test.ts:
// a media type that is not type/subtype got 415, and a multipart one got "empty body"
// (the multipart parser took the body) instead of the bytes being stored.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startTestApp, type TestApp } from "./helpers/app-server.js";

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
