// The origin a client used to reach the server, for the links it is given (POST's answer,
// the home page's examples). With -baseurl it is that, whatever the request says. Otherwise
// it is the Host header (behind a proxy: what the proxy says it received), checked first:
// a link built from an unchecked header would hand a client whatever an attacker (or a
// confused proxy) put there. RFC 9112 §3.2 has a server answer 400 to an invalid Host, so
// that is the answer, before anything is stored.

import type { FastifyRequest } from "fastify";
import { HttpError } from "./plugins/errors.js";

export interface OriginOptions {
  readonly behindProxy: boolean;
  /** The pinned origin (scheme://host[:port], no trailing slash), or null to take it from the request. */
  readonly baseUrl: string | null;
}

/** A DNS name or IPv4 address, or a bracketed IPv6 address, and an optional port. */
const HOST_AND_PORT = /^(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

export function isValidHost(host: string): boolean {
  const match = HOST_AND_PORT.exec(host);
  return match !== null && (match[1] === undefined || Number(match[1]) <= 65535);
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(",")[0]?.trim() || undefined;
}

function checked(header: string, value: string): string {
  if (!isValidHost(value)) throw new HttpError(400, `invalid ${header} header: expected a host name or address, optionally with :port`);
  return value;
}

export function publicOrigin(req: FastifyRequest, { behindProxy, baseUrl }: OriginOptions): string {
  if (baseUrl !== null) return baseUrl;
  const forwardedHost = behindProxy ? firstValue(req.headers["x-forwarded-host"]) : undefined;
  const host = forwardedHost !== undefined ? checked("X-Forwarded-Host", forwardedHost) : req.headers.host ? checked("Host", req.headers.host) : "localhost";
  let scheme = "encrypted" in req.socket && req.socket.encrypted ? "https" : "http";
  if (behindProxy) {
    scheme = firstValue(req.headers["x-forwarded-proto"])?.toLowerCase() ?? "https";
    if (scheme !== "http" && scheme !== "https") throw new HttpError(400, "invalid X-Forwarded-Proto header: expected http or https");
  }
  return `${scheme}://${host}`;
}

/** Checks a -baseurl value at start-up: the origin it names, or an Error. */
export function parseBaseUrl(text: string): string | null {
  if (text === "") return null;
  const url = new URL(text);
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password || url.search || url.hash || url.pathname !== "/") {
    throw new Error("not an origin");
  }
  return url.origin;
}
