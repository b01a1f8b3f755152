// A real listening litepaste app on 127.0.0.1 over a real SQLite file in a temp dir.

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import type { FastifyInstance } from "fastify";
import { buildApp, type AppConfig } from "../server/app.js";
import { Metrics } from "../server/metrics.js";
import { openStore, type Store } from "../server/pastes/store.js";

export const DEFAULT_APP_CONFIG: AppConfig = {
  title: "LogPaste",
  subtitle: "A minimalist, open-source debug log upload service",
  footer: "",
  showDocs: true,
  perMinuteLimit: 0,
  maxPasteBytes: 2 * 1024 * 1024,
  behindProxy: false,
  metricsAddr: null,
};

export interface TestApp {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly dbPath: string;
  close(): Promise<void>;
}

export async function startTestApp(overrides: Partial<AppConfig> = {}, dbPath?: string): Promise<TestApp> {
  const dir = dbPath ? undefined : mkdtempSync(path.join(os.tmpdir(), "litepaste-app-"));
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
