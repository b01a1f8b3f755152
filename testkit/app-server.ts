// A real listening litepaste app on 127.0.0.1 over a real SQLite file in a temp dir, in the
// test's own process: for the app's HTTP behaviour (routes, pages, limits, a browser),
// where a server process (./litepaste-process.ts) would only add start-up time. Tests that
// need the command, its configuration, signals or replication start the process instead.

import { rmSync } from "node:fs";
import path from "node:path";
import pino from "pino";
import type { FastifyInstance } from "fastify";
import { buildApp, type AppConfig } from "../server/app.js";
import { loadConfig } from "../server/config.js";
import { Metrics } from "../server/metrics.js";
import { openStore, type Store } from "../server/pastes/store.js";
import { freshDir } from "./scratch.js";

/** The server's defaults, as `litepaste` starts with no flags and an empty environment. */
export const DEFAULT_APP_CONFIG: AppConfig = loadConfig([], {});

export interface TestApp {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly dbPath: string;
  close(): Promise<void>;
}

export async function startTestApp(overrides: Partial<AppConfig> = {}, dbPath?: string): Promise<TestApp> {
  const dir = dbPath ? undefined : freshDir("litepaste-app");
  const file = dbPath ?? path.join(dir!, "data", "store.db");
  const store = openStore(file, { replicated: false, synchronous: "NORMAL" });
  const app = await buildApp({ config: { ...DEFAULT_APP_CONFIG, ...overrides }, store, logger: pino({ level: "silent" }), metrics: new Metrics() });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    url,
    app,
    store,
    dbPath: file,
    async close() {
      await app.close();
      store.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
