// The port is bound at once, before the replica is restored: platforms kill an instance
// that does not bind in time (Heroku after 60 s), and a large restore takes longer. Until
// the app is ready, this bare handler answers every request 503 with Retry-After, and
// /healthz 503 with what the start-up is doing. The Fastify app is built only once the store
// is open and replication has started, on this same http.Server (Fastify's serverFactory),
// and takes over its requests in one synchronous step: the port is never unbound, and no
// route of the app (a write or a read) can run before the database is there.

import http from "node:http";
import type { AddressInfo } from "node:net";
import type { StartupPhase } from "../replication/index.js";
import type { Config } from "./config.js";
import { answerClientError, limitConnections, timeoutOptions } from "./connections.js";
import { reservedPath } from "./url-space.js";

/** Seconds a client is told to wait before it tries again. */
const RETRY_AFTER_SECONDS = 5;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** What /healthz shows before the app is ready. */
type StartupHealth =
  | { readonly status: "starting" }
  | { readonly status: "waiting"; readonly message: string; readonly lease: { host: string; expiresAt: string } | null }
  | { readonly status: "restoring"; readonly progress: { bytes: number; segments: number; totalSegments: number } };

export interface StartupGate {
  /** Bound and answering 503; hand it to buildApp. */
  readonly server: http.Server;
  /** http://HOST:PORT as bound (port 0 picks a free one). */
  readonly url: string;
  /** The start-up moved on (waiting for the previous writer, restoring). */
  report(phase: StartupPhase): void;
  /** From now on every request goes to `handler` (the ready app's). */
  open(handler: Handler): void;
  /** Stops listening (a start-up that failed). */
  close(): Promise<void>;
}

/** `full`: the other writer's host too (as /healthz shows details only where no METRICS_ADDR keeps them private). */
function healthOf(phase: StartupPhase, full: boolean): StartupHealth {
  if (phase.phase === "restoring") return { status: "restoring", progress: { ...phase.progress } };
  if (!full) return { status: "waiting", message: "waiting for the previous writer to finish", lease: null };
  return { status: "waiting", message: phase.message, lease: phase.holder && { host: phase.holder.host, expiresAt: phase.holder.expiresAt } };
}

function answer(res: http.ServerResponse, body: string, contentType: string): void {
  res.writeHead(503, {
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(body),
    "Retry-After": String(RETRY_AFTER_SECONDS),
    "Cache-Control": "no-store",
  });
  res.end(body);
}

/** The default "::" on a machine without IPv6 (no address family, or no address). */
function noIpv6(err: NodeJS.ErrnoException): boolean {
  return err.code === "EAFNOSUPPORT" || err.code === "EADDRNOTAVAIL";
}

/**
 * Binds config's host and port with the app's timeouts and connection cap, answering 503
 * until opened. When the host was not configured and the machine has no IPv6, binds
 * 0.0.0.0 instead and tells `onIpv4Fallback`.
 */
export async function listenWhileStarting(config: Config, onIpv4Fallback: (err: Error) => void): Promise<StartupGate> {
  const timeouts = timeoutOptions(config);
  const server = http.createServer(timeouts.http ?? {});
  // What Fastify sets on a server it creates itself, from the same options.
  server.keepAliveTimeout = timeouts.keepAliveTimeout!;
  server.requestTimeout = timeouts.requestTimeout!;
  server.setTimeout(timeouts.connectionTimeout);
  limitConnections(server, config.maxConnections);
  // Fastify adds its own (the same) handler when it takes the server.
  server.on("clientError", answerClientError);

  let health: StartupHealth = { status: "starting" };
  const healthPath = reservedPath("healthz");
  const starting: Handler = (req, res) => {
    // The body of an upload is read and dropped: closing with unread bytes would reset the connection.
    req.resume();
    if (req.method === "GET" && new URL(req.url ?? "/", "http://x").pathname === healthPath) {
      answer(res, JSON.stringify(health), "application/json; charset=utf-8");
    } else {
      answer(res, "restoring the database from the replica; try again in a moment\n", "text/plain; charset=utf-8");
    }
  };
  server.on("request", starting);
  const bind = (host: string) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  await bind(config.host).catch((err: NodeJS.ErrnoException) => {
    if (!config.ipv4Fallback || !noIpv6(err)) throw err;
    onIpv4Fallback(err);
    return bind("0.0.0.0");
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    server,
    url: `http://${host}:${port}`,
    report(phase) {
      health = healthOf(phase, config.metricsAddr === null);
    },
    open(handler) {
      server.off("clientError", answerClientError);
      server.off("request", starting);
      server.on("request", handler);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
