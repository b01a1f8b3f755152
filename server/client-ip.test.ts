import { test } from "node:test";
import assert from "node:assert/strict";
import { clientIp, normalizeAddress, rateLimitKey } from "./client-ip.js";

const PEER = "10.0.0.1";

test("without a proxy, the TCP peer is the client whatever the headers say", () => {
  assert.equal(clientIp({ "x-forwarded-for": "1.2.3.4" }, "127.0.0.1", 0), "127.0.0.1");
  assert.equal(clientIp({ "x-real-ip": "1.2.3.4", forwarded: "for=1.2.3.4" }, "::ffff:127.0.0.1", 0), "127.0.0.1", "the peer is normalised too");
});

test("behind a proxy: the right-most entry of X-Forwarded-For or Forwarded, or X-Real-IP", () => {
  assert.equal(clientIp({ "x-forwarded-for": "6.6.6.6, 1.2.3.4" }, PEER, 1), "1.2.3.4");
  assert.equal(clientIp({ forwarded: 'for=6.6.6.6, for="[2001:db8::1]:4711";proto=https' }, PEER, 1), "2001:db8::1");
  assert.equal(clientIp({ "x-real-ip": "9.9.9.9" }, PEER, 1), "9.9.9.9");
  assert.equal(clientIp({ "x-forwarded-for": "1.2.3.4:5678" }, PEER, 1), "1.2.3.4");
  assert.equal(clientIp({ forwarded: 'for="1.2.3.4";by=x, FOR=5.6.7.8' }, PEER, 1), "5.6.7.8", "parameter names are case-insensitive");
  assert.equal(clientIp({ forwarded: 'for="a,b;c=d", for=5.6.7.8' }, PEER, 1), "5.6.7.8", "quoted commas do not split elements");
});

test("with N trusted proxies the client is the N-th entry from the right", () => {
  const xff = { "x-forwarded-for": "6.6.6.6, 1.2.3.4, 10.1.1.1, 10.2.2.2" };
  assert.equal(clientIp(xff, PEER, 1), "10.2.2.2");
  assert.equal(clientIp(xff, PEER, 2), "10.1.1.1");
  assert.equal(clientIp(xff, PEER, 3), "1.2.3.4");
  assert.equal(clientIp({ forwarded: "for=6.6.6.6, for=1.2.3.4, for=10.1.1.1" }, PEER, 2), "1.2.3.4");
  // An element without for= is still a hop: the proxy that wrote it counts.
  assert.equal(clientIp({ forwarded: "for=1.2.3.4, proto=https" }, PEER, 2), "1.2.3.4");
  // Fewer entries than proxies: all of them came from trusted proxies, the left-most is the furthest.
  assert.equal(clientIp({ "x-forwarded-for": "1.2.3.4" }, PEER, 3), "1.2.3.4");
});

test("an unparseable entry where a trusted proxy wrote is not skipped: the client is keyed by the peer", () => {
  // Skipping "garbage" would hand the key to whatever the client put left of it.
  assert.equal(clientIp({ "x-forwarded-for": "1.2.3.4, garbage" }, PEER, 1), PEER);
  assert.equal(clientIp({ "x-forwarded-for": "2001:db8::5, unknown" }, PEER, 1), PEER);
  assert.equal(clientIp({ forwarded: "for=1.2.3.4, for=unknown" }, PEER, 1), PEER);
  assert.equal(clientIp({ forwarded: 'for=1.2.3.4, for="_hidden"' }, PEER, 1), PEER);
  assert.equal(clientIp({ "x-forwarded-for": "1.2.3.4, garbage, 10.1.1.1" }, PEER, 2), PEER);
  for (const headers of [{ "x-forwarded-for": "" }, { "x-forwarded-for": "nope" }, { forwarded: "for=unknown" }, { "x-real-ip": "x" }, { "x-real-ip": "1.1.1.1, 2.2.2.2" }]) {
    assert.equal(clientIp(headers, PEER, 1), PEER, JSON.stringify(headers));
  }
  assert.equal(clientIp({}, PEER, 1), PEER, "no header at all: the peer");
  assert.equal(clientIp({}, undefined, 1), "unknown");
});

test("headers that disagree key the client by the peer, whichever one the proxy wrote", () => {
  // The proxy sets only X-Real-IP; the client adds X-Forwarded-For.
  assert.equal(clientIp({ "x-real-ip": "1.2.3.4", "x-forwarded-for": "2001:db8::7" }, PEER, 1), PEER);
  // The proxy appends only X-Forwarded-For; the client adds X-Real-IP.
  assert.equal(clientIp({ "x-forwarded-for": "1.2.3.4", "x-real-ip": "2001:db8::7" }, PEER, 1), PEER);
  // The proxy appends `for=unknown` to Forwarded; the client adds X-Forwarded-For.
  assert.equal(clientIp({ forwarded: "for=unknown", "x-forwarded-for": "2001:db8::7" }, PEER, 1), PEER);
  // A proxy that writes several of them names the same client in each: that is the client.
  assert.equal(clientIp({ forwarded: 'for="[2001:DB8::7]"', "x-forwarded-for": "6.6.6.6, 2001:db8:0::7", "x-real-ip": "2001:db8::0:7" }, PEER, 1), "2001:db8::7");
});

test("addresses are normalised: case, zero compression, ports, brackets, IPv4-mapped IPv6, zones", () => {
  const spellings = ["2001:db8::77", "2001:DB8::77", "2001:0db8::0077", "2001:db8:0:0:0:0:0:77", "2001:db8:0000:0000:0000:0000:0000:0077", "[2001:db8::77]", "[2001:db8::77]:8080"];
  for (const s of spellings) assert.equal(normalizeAddress(s), "2001:db8::77", s);
  assert.equal(normalizeAddress("::ffff:4.3.2.1"), "4.3.2.1");
  assert.equal(normalizeAddress("::FFFF:0403:0201"), "4.3.2.1");
  assert.equal(normalizeAddress("4.3.2.1:80"), "4.3.2.1");
  assert.equal(normalizeAddress("fe80::1%eth0"), "fe80::1");
  for (const bad of ["", "unknown", "999.1.1.1", "01.2.3.4", "1.2.3", "0x7f.0.0.1", "2001:db8::77::1", "[2001:db8::77", "1.2.3.4:99999", "a".repeat(5000)]) {
    assert.equal(normalizeAddress(bad), undefined, bad);
  }
});

test("rate-limit keys: IPv4 per address, IPv6 per /64", () => {
  assert.equal(rateLimitKey("4.3.2.1"), "4.3.2.1");
  assert.equal(rateLimitKey("2001:db8::77"), "2001:db8::/64");
  assert.equal(rateLimitKey("2001:db8::ffff:1"), "2001:db8::/64");
  assert.equal(rateLimitKey("2001:db8:0:1::77"), "2001:db8:0:1::/64");
  assert.equal(rateLimitKey("unknown"), "unknown");
});
