// The client's address, for the rate limit and the logs (docs/reliability.md, "Rate limits
// and client addresses").
//
// Without a proxy the TCP peer is the client. Behind `trustedProxies` proxies the peer is the
// nearest proxy, and each proxy on the way appended the address it saw: of the chain
// [header entries…, peer], the last `trustedProxies` addresses are proxies, and the one just
// left of them is the client. Everything further left came from the client and is never read.
//
// Which header a proxy writes differs (nginx: X-Real-IP and/or X-Forwarded-For; Caddy, Fly,
// Heroku, Traefik: X-Forwarded-For; some: Forwarded), and a header the proxy does not write
// passes through from the client unchanged. No order of preference is safe by itself (the
// client forges whichever one is preferred and the proxy leaves alone), so every one of them
// that is present is read by the same rule and they must agree. When they disagree, or the
// entry where a trusted proxy should have written is not an address (`for=unknown`, an
// obfuscated Forwarded identifier, garbage), the client is keyed by the peer: the worst a
// client can do is share its proxy's budget, never pick a budget of its own.
//
// Addresses are parsed (node:net's strict isIP, then ipaddr.js, the parser Fastify's own
// proxy-addr uses) and normalised: IPv4-mapped IPv6 becomes IPv4, case and zero compression
// become RFC 5952's. Node 20 has no SocketAddress.parse to do this. The Forwarded tokenizer is
// our own: it is small, and the npm parsers for it either skip bad elements (which is what
// lets a client in) or are unmaintained.

import { isIP } from "node:net";
import type { IncomingHttpHeaders } from "node:http";
import ipaddr from "ipaddr.js";

/** How many proxies in front of the server append the client address; 0: none (trust no header). */
export const DEFAULT_TRUSTED_PROXIES = 1;
/** IPv6 clients are limited per /64: one subscriber line usually holds a whole /64. */
export const IPV6_KEY_PREFIX = 64;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/**
 * "1.2.3.4", "1.2.3.4:80", "[2001:db8::1]:443", "2001:DB8::1", "::ffff:1.2.3.4" → the address
 * in its one normal spelling; undefined when the text is not exactly one address.
 */
export function normalizeAddress(candidate: string): string | undefined {
  const withPort = /^(?:\[([^\]]+)\]|([\d.]+))(?::(\d{1,5}))?$/.exec(candidate.trim());
  if (withPort && Number(withPort[3] ?? 0) > 65535) return undefined;
  const s = withPort ? (withPort[1] ?? withPort[2])! : candidate.trim();
  if (isIP(s) === 0) return undefined;
  const address = ipaddr.process(s);
  if (address.kind() === "ipv4") return address.toString();
  // A zone (fe80::1%eth0) names an interface of the sender, not a different client.
  return new ipaddr.IPv6((address as ipaddr.IPv6).parts).toRFC5952String();
}

/** The rate-limit key of a normalised address: IPv4 as is, IPv6 as its /64 network. */
export function rateLimitKey(address: string): string {
  if (!address.includes(":")) return address;
  const { parts } = ipaddr.IPv6.parse(address);
  const network = parts.map((part, i) => (i < IPV6_KEY_PREFIX / 16 ? part : 0));
  return `${new ipaddr.IPv6(network).toRFC5952String()}/${IPV6_KEY_PREFIX}`;
}

/** A comma-separated list split outside quoted strings (RFC 7230 lists, as Forwarded uses). */
function splitOutsideQuotes(value: string, separator: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === "\\" && i + 1 < value.length) {
      current += c + value[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      out.push(current);
      current = "";
    } else current += c;
  }
  out.push(current);
  return out;
}

/** Each Forwarded element's `for=` value, unquoted; "" for an element without one (it still counts as a hop). */
function forwardedFor(value: string): string[] {
  return splitOutsideQuotes(value, ",").map((element) => {
    for (const pair of splitOutsideQuotes(element, ";")) {
      const eq = pair.indexOf("=");
      if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== "for") continue;
      const raw = pair.slice(eq + 1).trim();
      return /^"(.*)"$/.test(raw) ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
    }
    return "";
  });
}

/**
 * The entry written for the client by the outermost trusted proxy: `hops` from the right
 * (the peer, the last hop, is not in the header). With fewer entries than hops every entry
 * was written by a trusted proxy, and the left-most is the furthest one saw.
 * Undefined when that entry is not an address.
 */
function fromChain(entries: readonly string[], hops: number): string | undefined {
  const entry = entries[Math.max(0, entries.length - hops)];
  return entry === undefined ? undefined : normalizeAddress(entry);
}

/**
 * The client's normalised address (or the peer's, see above); "unknown" when the socket is
 * already gone. `trustedProxies` is 0 unless the operator said the server is behind a proxy.
 */
export function clientIp(headers: IncomingHttpHeaders, peer: string | undefined, trustedProxies: number): string {
  const peerAddress = (peer !== undefined && normalizeAddress(peer)) || "unknown";
  if (trustedProxies === 0) return peerAddress;
  const named: (string | undefined)[] = [];
  const forwarded = header(headers, "forwarded");
  if (forwarded !== undefined) named.push(fromChain(forwardedFor(forwarded), trustedProxies));
  const xff = header(headers, "x-forwarded-for");
  if (xff !== undefined) named.push(fromChain(xff.split(","), trustedProxies));
  // One address, set (not appended) by a proxy: two of them mean someone else added one.
  const realIp = header(headers, "x-real-ip");
  if (realIp !== undefined) named.push(realIp.includes(",") ? undefined : normalizeAddress(realIp));
  const [first] = named;
  if (first === undefined || named.some((address) => address !== first)) return peerAddress;
  return first;
}
