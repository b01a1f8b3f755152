// The server's lifecycle: configuration → the port, answering 503 (server/startup-gate.ts)
// → replica restore (if needed) → store → replication → the app takes the port's requests;
// and the reverse on SIGTERM/SIGINT, flushing replication before the database closes.

import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { buildApp } from "./app.js";
import { Metrics } from "./metrics.js";
import { listenForMetrics } from "./metrics-listener.js";
import { openStore } from "./pastes/store.js";
import { healthReport } from "./routes/health.js";
import { listenWhileStarting, type StartupGate } from "./startup-gate.js";
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
  const gate = await listenWhileStarting(config, (err) =>
    logger.warn({ err: err.message }, `no IPv6 here: listening on 0.0.0.0 instead of ${config.host}`),
  );
  logger.info({ url: gate.url }, "litepaste listening: answering 503 until the database is ready");
  try {
    return await startOnGate(gate, config, logger);
  } catch (err) {
    // Nothing was accepted (every request got the gate's 503): fail closed, as before the port was bound early.
    await gate.close();
    throw err;
  }
}

async function startOnGate(gate: StartupGate, config: Config, logger: Logger): Promise<RunningServer> {
  const prepared = config.replication
    ? await prepareReplication(config.dbPath, config.replication, logger, { onPhase: (phase) => gate.report(phase) })
    : null;
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
    server: gate.server,
  });
  const health = () => healthReport({ pingDatabase: () => store.ping(), replicationStatus }, true);
  const metricsListener = config.metricsAddr && (await listenForMetrics(metrics, config.metricsAddr, health));
  if (metricsListener) logger.info({ url: `${metricsListener.url}/metrics` }, "metrics listening");
  await app.ready();
  gate.open(app.routing);
  const url = gate.url;
  logger.info(
    { url, db: config.dbPath, replica: replication?.status().target ?? null, mode: config.replication?.syncMode ?? null },
    "litepaste ready",
  );

  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    replication,
    close() {
      closing ??= (async () => {
        // The app does not own the port (the gate bound it): stop accepting, let the
        // shutdown plugin answer what arrives on kept-alive connections, and wait for the
        // requests in flight before replication flushes and the database closes.
        const closed = gate.close();
        await app.close();
        await closed;
        await metricsListener?.close();
        if (replication) await replication.stop(() => store.close());
        else store.close();
        logger.info("litepaste stopped");
      })();
      return closing;
    },
  };
}
