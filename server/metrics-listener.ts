// /metrics on an address of its own (METRICS_ADDR), like Litestream's `addr`: a port that
// can stay private while the paste service is public. It serves /healthz in full too (the
// main port then shows only what is ok), and nothing else.

import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ListenAddress } from "./config.js";
import type { Metrics } from "./metrics.js";
import { ERROR_HEADERS } from "./plugins/errors.js";
import type { HealthReport } from "./routes/health.js";

export interface MetricsListener {
  /** The address actually bound (port 0 picks a free port). */
  readonly url: string;
  close(): Promise<void>;
}

function answer(res: http.ServerResponse, status: number, contentType: string, body: string, withBody: boolean): void {
  res.writeHead(status, { "Content-Type": contentType, "Cache-Control": "no-store", ...(status >= 400 ? ERROR_HEADERS : {}) });
  res.end(withBody ? body : undefined);
}

export async function listenForMetrics(metrics: Metrics, address: ListenAddress, health: () => HealthReport): Promise<MetricsListener> {
  const server = http.createServer((req, res) => {
    const withBody = req.method !== "HEAD";
    const pathname = new URL(req.url ?? "/", "http://host").pathname;
    if ((pathname !== "/metrics" && pathname !== "/healthz") || (req.method !== "GET" && req.method !== "HEAD")) {
      answer(res, 404, "text/plain; charset=utf-8", "not found: metrics are at GET /metrics, health at GET /healthz\n", withBody);
      return;
    }
    if (pathname === "/healthz") {
      const { code, body } = health();
      answer(res, code, "application/json; charset=utf-8", JSON.stringify(body), withBody);
      return;
    }
    metrics.render().then(
      (text) => answer(res, 200, metrics.contentType, text, withBody),
      (err: unknown) => answer(res, 500, "text/plain; charset=utf-8", `cannot collect metrics: ${(err as Error).message}\n`, withBody),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`cannot serve metrics on METRICS_ADDR ${address.host}:${address.port}: ${err.message}`, { cause: err })));
    server.listen(address.port, address.host, resolve);
  });
  const { address: host, port, family } = server.address() as AddressInfo;
  return {
    url: `http://${family === "IPv6" ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
