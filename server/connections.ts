// How long a client may take and how many may be connected at once, so that slow or idle
// clients never keep others out (docs/reliability.md, "Connections and timeouts"); and the
// answer to a request Node's HTTP parser refuses or times out, in the plain-text form of
// every other error (Fastify's own is JSON).

import http from "node:http";
import type { Socket } from "node:net";
import type { FastifyHttpOptions, FastifyServerOptions } from "fastify";
import type { Config } from "./config.js";
import { ERROR_HEADERS } from "./plugins/errors.js";

export type ConnectionLimits = Pick<Config, "requestTimeoutMs" | "headersTimeoutMs" | "keepAliveTimeoutMs" | "idleTimeoutMs" | "maxConnections">;

/** How often Node checks the request and headers timeouts: the precision of both. */
const TIMEOUT_CHECK_INTERVAL_MS = 500;
/** A refused connection is closed this long after its answer at the latest, whatever the client still sends. */
const REFUSAL_LINGER_MS = 1000;
/** Beyond the cap plus this many refusals still lingering, connections are dropped at accept without a word. */
const REFUSAL_HEADROOM = 64;

/** The Fastify options that set Node's timeouts. */
export function timeoutOptions(
  limits: ConnectionLimits,
): Pick<FastifyServerOptions, "requestTimeout" | "keepAliveTimeout" | "connectionTimeout"> & Pick<FastifyHttpOptions<http.Server>, "http"> {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Inactivity in either direction, e.g. a client that stops reading its answer.
    connectionTimeout: limits.idleTimeoutMs,
    http: {
      // Node checks the headers timeout against this one, which Fastify sets only later.
      requestTimeout: limits.requestTimeoutMs,
      // Node refuses a headers timeout longer than the request timeout, which it is part of.
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
  };
}

/** A whole HTTP/1.1 answer that closes the connection, for a socket no request object exists for. */
function plainTextAnswer(status: number, message: string, headers: Record<string, string> = {}): string {
  const body = `${message}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}`,
    "Content-Type: text/plain; charset=utf-8",
    ...Object.entries(ERROR_HEADERS).map(([name, value]) => `${name}: ${value}`),
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    "Connection: close",
  ];
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

/** What Node's parser and timers refuse, by error code; anything else is a malformed request. */
function clientErrorAnswer(code: string | undefined): [number, string] {
  switch (code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [408, "request timeout: the request did not arrive in time"];
    case "HPE_HEADER_OVERFLOW":
      return [431, "request header fields too large"];
    case "HPE_URI_TOO_LONG":
      return [414, "URI too long"];
    default:
      return [400, "bad request: not valid HTTP/1.1"];
  }
}

/** Fastify's clientErrorHandler: Node's refusals, answered as plain text. */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  // A reset or a socket already gone: there is no one to answer.
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, message] = clientErrorAnswer(err.code);
  if (socket.writable) socket.write(plainTextAnswer(status, message));
  socket.destroy(err);
}

/**
 * Caps open connections at `max`. Over the cap a connection gets an immediate 503 with
 * Retry-After and is closed, rather than what Node's own `maxConnections` does (closing it
 * at accept without a word, which a client sees as a reset). Kept by hand: no library does
 * this for a Node HTTP server; it has to sit between accepting a socket and HTTP parsing.
 */
export function limitConnections(server: http.Server, max: number): void {
  let open = 0;
  // The HTTP server's own listeners parse requests on a socket; they run only for sockets let in.
  const serve = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  server.maxConnections = max + REFUSAL_HEADROOM;
  server.on("connection", (socket: Socket) => {
    if (open >= max) return refuse(socket);
    open++;
    socket.once("close", () => open--);
    for (const listener of serve) listener.call(server, socket);
  });
}

function refuse(socket: Socket): void {
  socket.on("error", () => {});
  // Whatever the client sent is read and dropped: closing with unread bytes would reset the
  // connection, and the client might lose the answer.
  socket.resume();
  socket.once("end", () => socket.destroy());
  setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
  socket.end(plainTextAnswer(503, "too many connections: try again in a moment", { "Retry-After": "5" }));
}

/**
 * How long a connection refused mid-body is kept half-open, reading and dropping what the
 * client still sends. Closing at once with unread bytes in the socket makes the kernel send
 * a reset, and a client still sending then loses the answer it has not read yet (a 413
 * becomes "connection reset"). Go's net/http waits the same 500 ms for the same reason.
 */
export const DEFAULT_REFUSAL_LINGER_MS = 500;

/** Makes the close that follows this answer a half-close that lingers (see above). */
export function lingerAfterAnswer(socket: Socket, lingerMs = DEFAULT_REFUSAL_LINGER_MS): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    this.resume();
    const timer = setTimeout(() => this.destroy(), lingerMs);
    timer.unref();
    this.once("close", () => clearTimeout(timer));
  };
}
