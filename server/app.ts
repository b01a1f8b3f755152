// The HTTP application: LogPaste's routes (see docs/api.md) on Fastify, each concern a
// plugin. App-wide plugins (fastify-plugin) come first, so that every route registered after
// them inherits their hooks; each route plugin is encapsulated, so that what it adds
// (parsers, hooks, error mapping) applies to its own routes only.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type http from "node:http";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { answerClientError, limitConnections, timeoutOptions, type ConnectionLimits } from "./connections.js";
import type { Metrics } from "./metrics.js";
import { createPasteService, type SyncReplication } from "./pastes/service.js";
import type { Store } from "./pastes/store.js";
import { createUploadBudget } from "./pastes/upload-budget.js";
import { cors } from "./plugins/cors.js";
import { errors, sendText } from "./plugins/errors.js";
import { notFound } from "./plugins/not-found.js";
import { requestLog } from "./plugins/request-log.js";
import { shutdown } from "./plugins/shutdown.js";
import { healthRoute, type ReplicationHealth } from "./routes/health.js";
import { homeRoute } from "./routes/home.js";
import { metricsRoute } from "./routes/metrics.js";
import { pasteRoutes } from "./routes/paste.js";
import { staticRoutes } from "./routes/static.js";
import { uploadRoutes } from "./routes/upload.js";
import { viewerAssetRoutes } from "./routes/viewer-assets.js";
import { urlSpace } from "./url-space.js";

export type AppConfig = Pick<
  Config,
  "title" | "subtitle" | "footer" | "showDocs" | "viewer" | "perMinuteLimit" | "maxPasteBytes" | "behindProxy" | "trustedProxies" | "metricsAddr" | "maxInflightBytes" | "baseUrl" | "pasteCacheBytes"
> &
  ConnectionLimits;

export interface AppDeps {
  readonly config: AppConfig;
  readonly store: Store;
  readonly logger: Logger;
  /** Requests and pastes are counted into it; served at /metrics unless `config.metricsAddr` is set. */
  readonly metrics: Metrics;
  /** Sync mode only: an upload is answered once the replica has it. */
  readonly sync?: SyncReplication;
  /** Replication's state for /healthz; absent without replication. */
  readonly replicationStatus?: () => ReplicationHealth;
  /**
   * A server already bound (server/startup-gate.ts, with the timeouts and connection cap
   * applied): the app answers on it once the gate hands over `app.routing`, instead of listening itself.
   */
  readonly server?: http.Server;
}

/** Every plugin and route, in the order they must be registered. */
export const litepaste = fp<AppDeps>(
  async (app, { config, store, logger, metrics, sync, replicationStatus }) => {
    // Register options are picked field by field: the whole Config carries `logLevel`, which
    // Fastify would take as the plugin's own log level.
    const { maxPasteBytes, perMinuteLimit, behindProxy, title, subtitle, footer, showDocs, maxInflightBytes, baseUrl, pasteCacheBytes } = config;
    const pastes = createPasteService({ store, metrics, logger, maxPasteBytes, cacheBytes: pasteCacheBytes, sync });
    const budget = createUploadBudget(maxInflightBytes);
    metrics.watchUploadBudget(() => budget.inFlightBytes, budget.capBytes);
    // Proxy headers are read only when the operator said there is a proxy.
    const trustedProxies = behindProxy ? config.trustedProxies : 0;
    await app.register(urlSpace);
    await app.register(errors);
    await app.register(shutdown);
    await app.register(requestLog, { metrics, trustedProxies });
    await app.register(cors);
    await app.register(notFound);
    await app.register(uploadRoutes, { pastes, maxPasteBytes, perMinuteLimit, behindProxy, trustedProxies, baseUrl, budget });
    await app.register(pasteRoutes, { pastes, viewer: config.viewer ? { siteTitle: title } : null });
    if (config.viewer) await app.register(viewerAssetRoutes);
    await app.register(homeRoute, { title, subtitle, footer, showDocs, behindProxy, baseUrl });
    // With METRICS_ADDR, the details go there; the main port shows only what is ok.
    await app.register(healthRoute, { pingDatabase: () => store.ping(), replicationStatus, full: config.metricsAddr === null });
    if (config.metricsAddr === null) await app.register(metricsRoute, { metrics });
    await app.register(staticRoutes);
  },
  { name: "litepaste" },
);

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One line per request, written by the request-log plugin (Fastify would write two).
    logController: new LogController({ disableRequestLogging: true }),
    // Ids are 8 characters; anything much longer is not a paste and should not reach the store.
    routerOptions: { maxParamLength: 256 },
    // Answered by the shutdown plugin instead, in the plain-text form of every other error.
    return503OnClosing: false,
    ...timeoutOptions(deps.config),
    clientErrorHandler: answerClientError,
    ...(deps.server ? { serverFactory: () => deps.server! } : {}),
    // The router's refusals, which no hook or error handler sees: plain text, never echoing the URL.
    frameworkErrors: (err, _req, reply) =>
      err.code === "FST_ERR_MAX_PARAM_LENGTH" ? sendText(reply, 414, "URI too long") : sendText(reply, 400, "bad request: the URL is not valid percent-encoding"),
  });
  if (!deps.server) limitConnections(app.server, deps.config.maxConnections);
  await app.register(litepaste, deps);
  return app;
}
