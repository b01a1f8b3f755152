import { test } from "node:test";
import assert from "node:assert/strict";
import { clientIp } from "./client-ip.js";

test("without a proxy, the TCP peer is the client whatever the headers say", () => {
  assert.equal(clientIp({ "x-forwarded-for": "1.2.3.4" }, "127.0.0.1", false), "127.0.0.1");
});

test("behind a proxy: the right-most X-Forwarded-For entry, then Forwarded, then X-Real-IP", () => {
  assert.equal(clientIp({ "x-forwarded-for": "6.6.6.6, 1.2.3.4" }, "10.0.0.1", true), "1.2.3.4");
  assert.equal(clientIp({ "x-forwarded-for": "1.2.3.4, garbage" }, "10.0.0.1", true), "1.2.3.4");
  assert.equal(clientIp({ forwarded: 'for=6.6.6.6, for="[2001:db8::1]:4711";proto=https' }, "10.0.0.1", true), "2001:db8::1");
  assert.equal(clientIp({ "x-real-ip": "9.9.9.9" }, "10.0.0.1", true), "9.9.9.9");
  assert.equal(clientIp({ "x-forwarded-for": "1.2.3.4:5678" }, "10.0.0.1", true), "1.2.3.4");
});

test("unusable proxy headers fall back to the peer instead of failing", () => {
  for (const headers of [{ "x-forwarded-for": "" }, { "x-forwarded-for": "nope" }, { forwarded: "for=unknown" }, { "x-real-ip": "x" }]) {
    assert.equal(clientIp(headers, "10.0.0.1", true), "10.0.0.1");
  }
  assert.equal(clientIp({}, undefined, true), "unknown");
});
