// The server's lifecycle: configuration → replica restore (if needed) → store → replication
// → HTTP; and the reverse on SIGTERM/SIGINT, flushing replication before the database closes.

import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { buildApp } from "./app.js";
import { Metrics } from "./metrics.js";
import { listenForMetrics } from "./metrics-listener.js";
import { openStore } from "./pastes/store.js";
import { healthReport } from "./routes/health.js";
import { prepareReplication, type Replication } from "../replication/index.js";

export interface RunningServer {
  readonly app: FastifyInstance;
  /** The address actually bound (port 0 picks a free port). */
  readonly url: string;
  readonly replication: Replication | null;
  /** Stops accepting, finishes in-flight requests, flushes replication, closes the database. */
  close(): Promise<void>;
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const prepared = config.replication ? await prepareReplication(config.dbPath, config.replication, logger) : null;
  const syncMode = config.replication?.syncMode === "sync";
  const store = openStore(config.dbPath, { replicated: prepared !== null, synchronous: syncMode ? "FULL" : "NORMAL" });
  const replication = prepared ? prepared.start() : null;
  if (replication) store.onCommit(() => replication.notifyCommit());

  const metrics = new Metrics(replication ?? undefined);
  const replicationStatus = replication ? () => ({ ...replication.status() }) : undefined;
  const app = await buildApp({
    config,
    store,
    logger,
    metrics,
    sync:
      replication && syncMode
        ? { waitUntilReplicated: () => replication.waitUntilReplicated(), writerConflict: () => replication.status().writerConflict !== null }
        : undefined,
    replicationStatus,
  });
  const health = () => healthReport({ pingDatabase: () => store.ping(), replicationStatus }, true);
  const metricsListener = config.metricsAddr && (await listenForMetrics(metrics, config.metricsAddr, health));
  if (metricsListener) logger.info({ url: `${metricsListener.url}/metrics` }, "metrics listening");
  const url = await app.listen({ host: config.host, port: config.port }).catch((err: NodeJS.ErrnoException) => {
    // Issue 13: the default "::" on a machine without IPv6 (no address family, no address).
    if (!config.ipv4Fallback || (err.code !== "EAFNOSUPPORT" && err.code !== "EADDRNOTAVAIL")) throw err;
    logger.warn({ err: err.message }, `no IPv6 here: listening on 0.0.0.0 instead of ${config.host}`);
    return app.listen({ host: "0.0.0.0", port: config.port });
  });
  logger.info(
    { url, db: config.dbPath, replica: replication?.status().target ?? null, mode: config.replication?.syncMode ?? null },
    "litepaste listening",
  );

  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    replication,
    close() {
      closing ??= (async () => {
        await app.close();
        await metricsListener?.close();
        if (replication) await replication.stop(() => store.close());
        else store.close();
        logger.info("litepaste stopped");
      })();
      return closing;
    },
  };
}
