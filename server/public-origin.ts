// The origin a client used to reach the server, for the links it is given (POST's answer,
// the home page's examples). Behind a proxy it is what the proxy says it received.

import type { FastifyRequest } from "fastify";

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(",")[0]?.trim() || undefined;
}

export function publicOrigin(req: FastifyRequest, behindProxy: boolean): string {
  const host = (behindProxy && firstValue(req.headers["x-forwarded-host"])) || req.headers.host || "localhost";
  const scheme = behindProxy
    ? (firstValue(req.headers["x-forwarded-proto"]) ?? "https")
    : "encrypted" in req.socket && req.socket.encrypted ? "https" : "http";
  return `${scheme}://${host}`;
}
