// GET /metrics on the main listener, registered only when METRICS_ADDR is not set: with it,
// metrics are served there only (server/metrics-listener.ts) and /metrics here is looked up
// as a paste like any other path (404).

import type { FastifyInstance } from "fastify";
import type { Metrics } from "../metrics.js";
import { reservedPath } from "../url-space.js";

export interface MetricsRouteOptions {
  readonly metrics: Metrics;
}

export async function metricsRoute(app: FastifyInstance, { metrics }: MetricsRouteOptions): Promise<void> {
  app.get(reservedPath("metrics"), async (_req, reply) =>
    reply.type(metrics.contentType).header("Cache-Control", "no-store").send(await metrics.render()),
  );
}
