// One log line per request (Fastify's own two lines are turned off by disableRequestLogging)
// and the request metrics, for every route and for requests no route takes.

import fp from "fastify-plugin";
import { clientIp } from "../client-ip.js";
import type { Metrics } from "../metrics.js";

export interface RequestLogOptions {
  readonly metrics: Metrics;
  /** 0: the TCP peer is the client (see client-ip.ts). */
  readonly trustedProxies: number;
}

export const requestLog = fp<RequestLogOptions>(
  async (app, { metrics, trustedProxies }) => {
    app.addHook("onResponse", async (req, reply) => {
      metrics.requestServed(req.method, req.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
      req.log.info(
        {
          method: req.method,
          url: req.url,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          ip: clientIp(req.headers, req.socket.remoteAddress, trustedProxies),
        },
        "request",
      );
    });
  },
  { name: "request-log" },
);
