// A litepaste server process replicating to the bench store through a counting proxy
// (./store-proxy.ts): what the replication scenarios measure from the store's side.

import fs from "node:fs";
import path from "node:path";
import { serveCli, type ServedProcess } from "../../testkit/litepaste-process.js";
import type { BenchContext } from "../scenario.js";
import {
  isSnapshotUpload, replicaUrlVia, startStoreProxy, storeEndpoint, waitForStoreRequest, type StoreProxy, type StoreProxyOptions,
} from "./store-proxy.js";

export interface ProxiedServer {
  readonly proxy: StoreProxy;
  readonly server: ServedProcess;
  /** The replica URL the server uses (through the proxy). */
  readonly replicaUrl: string;
  /** SIGTERM (the server ships what is pending), then closes the proxy; throws unless the exit was clean. */
  stop(): Promise<void>;
}

let sessions = 0;

/**
 * Starts litepaste with `env` (DB_SYNC_MODE, DB_SYNC_INTERVAL…) on a fresh database and a
 * fresh replica prefix, and waits until the generation's first snapshot is in the store.
 */
export async function startProxiedServer(
  ctx: BenchContext, name: string, env: Readonly<Record<string, string>>, proxyOptions: StoreProxyOptions = {},
): Promise<ProxiedServer> {
  const id = `${name}-${++sessions}`;
  const dir = path.join(ctx.workDir, id);
  fs.mkdirSync(dir, { recursive: true });
  const url = ctx.store.url(`bench/${id}-${Date.now()}`);
  const proxy = await startStoreProxy(storeEndpoint(url, ctx.store.env), proxyOptions);
  const replicaUrl = replicaUrlVia(proxy, url);
  let server: ServedProcess | undefined;
  try {
    server = await serveCli({
      ...ctx.store.env,
      DB_PATH: path.join(dir, "store.db"),
      DB_REPLICA_URL: replicaUrl,
      ...env,
    });
    await waitForStoreRequest(proxy, "the first snapshot", isSnapshotUpload);
  } catch (err) {
    server?.child.kill("SIGKILL");
    await proxy.close();
    throw err;
  }
  const started = server;
  return {
    proxy,
    server: started,
    replicaUrl,
    async stop() {
      const code = await started.stop();
      await proxy.close();
      if (code !== 0) throw new Error(`litepaste (${name}) exited with ${code}:\n${started.output()}`);
    },
  };
}
