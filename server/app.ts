// The HTTP application: LogPaste's routes (see docs/api.md) on Fastify, each concern a
// plugin. App-wide plugins (fastify-plugin) come first, so that every route registered after
// them inherits their hooks; each route plugin is encapsulated, so that what it adds
// (parsers, hooks, error mapping) applies to its own routes only.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Metrics } from "./metrics.js";
import { createPasteService, type SyncReplication } from "./pastes/service.js";
import type { Store } from "./pastes/store.js";
import { cors } from "./plugins/cors.js";
import { errors } from "./plugins/errors.js";
import { notFound } from "./plugins/not-found.js";
import { requestLog } from "./plugins/request-log.js";
import { shutdown } from "./plugins/shutdown.js";
import { healthRoute, type ReplicationHealth } from "./routes/health.js";
import { homeRoute } from "./routes/home.js";
import { metricsRoute } from "./routes/metrics.js";
import { pasteRoutes } from "./routes/paste.js";
import { staticRoutes } from "./routes/static.js";
import { uploadRoutes } from "./routes/upload.js";
import { urlSpace } from "./url-space.js";

export type AppConfig = Pick<
  Config,
  "title" | "subtitle" | "footer" | "showDocs" | "perMinuteLimit" | "maxPasteBytes" | "behindProxy" | "trustedProxies" | "metricsAddr"
>;

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
}

/** Every plugin and route, in the order they must be registered. */
export const litepaste = fp<AppDeps>(
  async (app, { config, store, logger, metrics, sync, replicationStatus }) => {
    // Register options are picked field by field: the whole Config carries `logLevel`, which
    // Fastify would take as the plugin's own log level.
    const { maxPasteBytes, perMinuteLimit, behindProxy, title, subtitle, footer, showDocs } = config;
    // Proxy headers are read only when the operator said there is a proxy.
    const trustedProxies = behindProxy ? config.trustedProxies : 0;
    const pastes = createPasteService({ store, metrics, logger, maxPasteBytes, sync });
    await app.register(urlSpace);
    await app.register(errors);
    await app.register(shutdown);
    await app.register(requestLog, { metrics, trustedProxies });
    await app.register(cors);
    await app.register(notFound);
    await app.register(uploadRoutes, { pastes, maxPasteBytes, perMinuteLimit, behindProxy, trustedProxies });
    await app.register(pasteRoutes, { pastes });
    await app.register(homeRoute, { title, subtitle, footer, showDocs, behindProxy });
    await app.register(healthRoute, { pingDatabase: () => store.ping(), replicationStatus });
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
  });
  await app.register(litepaste, deps);
  return app;
}
