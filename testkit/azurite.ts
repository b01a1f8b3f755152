// A real Azure Blob server for tests: Azurite (Microsoft's emulator, from npm) in a child
// process on 127.0.0.1 with a temp directory, as testkit/s3rver.ts runs s3rver.

import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { freshDir } from "./scratch.js";
import { HANG_TIMEOUT_MS } from "./wait.js";

const require = createRequire(import.meta.url);
const AZURITE_BLOB_BIN = path.join(path.dirname(require.resolve("azurite/package.json")), "dist/src/blob/main.js");
/** Azurite's built-in account and its published key (not a secret: the same in every Azurite). */
const ACCOUNT = "devstoreaccount1";
const ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const CONTAINER = "litepaste-test";
/** Only a hang misses it (a loaded machine starts slowly, never this slowly). */
const START_TIMEOUT_MS = HANG_TIMEOUT_MS;
const STOP_TIMEOUT_MS = 10_000;

export interface AzuriteHandle {
  /** The Blob service URL: http://127.0.0.1:PORT/devstoreaccount1 */
  readonly endpoint: string;
  readonly account: string;
  /** A container that exists from the start. */
  readonly container: string;
  /** LITESTREAM_AZURE_ACCOUNT_KEY for the account. */
  readonly env: NodeJS.ProcessEnv;
  /** An abs:// replica URL for `prefix` in the container, with the endpoint. */
  url(prefix: string): string;
  /** Kills the server (an outage starts). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory (the outage ends). */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

function launch(dir: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [
    AZURITE_BLOB_BIN, "--blobHost", "127.0.0.1", "--blobPort", String(port), "--location", dir,
    "--silent", "--disableTelemetry", "--skipApiVersionCheck",
  ], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`Azurite did not start within ${START_TIMEOUT_MS} ms: ${output}`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code} before listening: ${output}`));
    };
    child.once("exit", onExit);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /successfully listens on http:\/\/[\d.]+:(\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      // Never keep the test process alive for the server's sake.
      child.unref();
      (child.stdout as unknown as { unref(): void }).unref();
      (child.stderr as unknown as { unref(): void }).unref();
      resolve({ child, port: Number(match[1]) });
    });
  });
}

/**
 * Stops the server with SIGTERM, which Azurite answers by saving its metadata: it keeps
 * blob metadata in memory and saves it every few seconds, so a SIGKILL loses what was
 * written just before (an emulator's limit, not Azure's). SIGKILL only if it hangs.
 */
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.ref();
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

export async function startAzurite(): Promise<AzuriteHandle> {
  const dir = freshDir("litepaste-azurite");
  let { child, port } = await launch(dir, 0);
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const endpoint = `http://127.0.0.1:${port}/${ACCOUNT}`;
  const service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY));
  await service.getContainerClient(CONTAINER).createIfNotExists();
  return {
    endpoint,
    account: ACCOUNT,
    container: CONTAINER,
    env: { LITESTREAM_AZURE_ACCOUNT_KEY: ACCOUNT_KEY },
    url: (prefix) => `abs://${ACCOUNT}@${CONTAINER}/${prefix.replace(/^\/+/, "")}?endpoint=${endpoint}`,
    stop: () => kill(child),
    async restart() {
      await kill(child);
      ({ child, port } = await launch(dir, port));
    },
    async dispose() {
      await kill(child);
      process.off("exit", killOnExit);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
