// The client's address, for the rate limit and the logs. Behind a reverse proxy the TCP
// peer is the proxy; the client is what the proxy appended. We trust exactly one hop:
// the right-most X-Forwarded-For / Forwarded entry is the one our proxy wrote, while
// entries left of it come from the client and could be forged to dodge the limit.

import { isIP } from "node:net";
import type { IncomingHttpHeaders } from "node:http";

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/** "[::1]:443", "1.2.3.4:80", "\"[::1]\"" → a bare IP, or undefined when it is not one. */
function bareIp(candidate: string): string | undefined {
  let s = candidate.trim().replace(/^"|"$/g, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  return isIP(s) ? s : undefined;
}

function lastValid(candidates: string[]): string | undefined {
  for (let i = candidates.length - 1; i >= 0; i--) {
    const ip = bareIp(candidates[i]!);
    if (ip) return ip;
  }
  return undefined;
}

export function clientIp(headers: IncomingHttpHeaders, peer: string | undefined, behindProxy: boolean): string {
  if (behindProxy) {
    const xff = header(headers, "x-forwarded-for");
    const fromXff = xff ? lastValid(xff.split(",")) : undefined;
    if (fromXff) return fromXff;
    const forwarded = header(headers, "forwarded");
    const fromForwarded = forwarded
      ? lastValid([...forwarded.matchAll(/for=("[^"]*"|[^;,\s]+)/gi)].map((m) => m[1]!))
      : undefined;
    if (fromForwarded) return fromForwarded;
    const realIp = header(headers, "x-real-ip");
    const fromRealIp = realIp ? bareIp(realIp) : undefined;
    if (fromRealIp) return fromRealIp;
  }
  return peer ?? "unknown";
}
