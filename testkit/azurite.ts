// A real Azure Blob server for tests: Azurite (Microsoft's emulator, from npm) in a child
// process on 127.0.0.1 with a temp directory, as testkit/s3rver.ts runs s3rver.

import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { startChildServer, type ServerControls } from "./child-server.js";
import { freshDir } from "./scratch.js";

const require = createRequire(import.meta.url);
const AZURITE_BLOB_BIN = path.join(path.dirname(require.resolve("azurite/package.json")), "dist/src/blob/main.js");
/** Azurite's built-in account and its published key (not a secret: the same in every Azurite). */
const ACCOUNT = "devstoreaccount1";
const ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const CONTAINER = "litepaste-test";

export interface AzuriteHandle extends ServerControls {
  /** The Blob service URL: http://127.0.0.1:PORT/devstoreaccount1 */
  readonly endpoint: string;
  readonly account: string;
  /** A container that exists from the start. */
  readonly container: string;
  /** LITESTREAM_AZURE_ACCOUNT_KEY for the account. */
  readonly env: NodeJS.ProcessEnv;
  /** An abs:// replica URL for `prefix` in the container, with the endpoint. */
  url(prefix: string): string;
}

export async function startAzurite(): Promise<AzuriteHandle> {
  const dir = freshDir("litepaste-azurite");
  const server = await startChildServer({
    name: "Azurite",
    command: process.execPath,
    args: (port) => [
      AZURITE_BLOB_BIN, "--blobHost", "127.0.0.1", "--blobPort", String(port), "--location", dir,
      "--silent", "--disableTelemetry", "--skipApiVersionCheck",
    ],
    listening: /successfully listens on http:\/\/[\d.]+:(\d+)/,
    // Azurite keeps blob metadata in memory and saves it every few seconds, and on SIGTERM:
    // a SIGKILL would lose what was written just before (an emulator's limit, not Azure's).
    stopSignal: "SIGTERM",
  });
  const endpoint = `http://127.0.0.1:${server.port}/${ACCOUNT}`;
  const service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY));
  await service.getContainerClient(CONTAINER).createIfNotExists();
  return {
    endpoint,
    account: ACCOUNT,
    container: CONTAINER,
    env: { LITESTREAM_AZURE_ACCOUNT_KEY: ACCOUNT_KEY },
    url: (prefix) => `abs://${ACCOUNT}@${CONTAINER}/${prefix.replace(/^\/+/, "")}?endpoint=${endpoint}`,
    stop: () => server.stop(),
    restart: () => server.restart(),
    async dispose() {
      await server.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
