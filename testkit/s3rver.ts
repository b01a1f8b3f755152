// A real S3 server for tests: s3rver in a child process on 127.0.0.1, so a test can kill it
// and start it again on the same port and directory to play an outage.
// See docs/design/replication.md, "A real S3 server for tests".

import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { freshDir } from "./scratch.js";
import { HANG_TIMEOUT_MS } from "./wait.js";

const require = createRequire(import.meta.url);
const S3RVER_BIN = path.join(path.dirname(require.resolve("s3rver/package.json")), "bin/s3rver.js");
/** Makes s3rver's PUTs all or nothing, as S3's are (see there). */
const ATOMIC_PUT = new URL("./s3rver-atomic-put.js", import.meta.url).href;
const BUCKET = "litepaste-test";
/** Only a hang misses it (a loaded machine starts slowly, never this slowly). */
const START_TIMEOUT_MS = HANG_TIMEOUT_MS;

export interface S3rverHandle {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** A bucket that exists from the start. */
  readonly bucket: string;
  /** The data directory (kept across restarts). */
  readonly dir: string;
  /** s3rver's fixed credentials, as LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY. */
  readonly env: NodeJS.ProcessEnv;
  /** A replica URL for `prefix` in the bucket, with the endpoint. */
  url(prefix: string): string;
  /** Kills the server (an outage starts). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory (the outage ends). */
  restart(): Promise<void>;
  /** Stops it and removes the data directory if the helper created it. */
  dispose(): Promise<void>;
}

function launch(dir: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  // --openssl-legacy-provider: without it s3rver's ListObjectsV2 pagination answers 500.
  const child = spawn(process.execPath, [
    "--openssl-legacy-provider", "--import", ATOMIC_PUT, S3RVER_BIN,
    "--directory", dir, "--address", "127.0.0.1", "--port", String(port), "--silent",
    "--configure-bucket", BUCKET,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`s3rver did not start within ${START_TIMEOUT_MS} ms: ${output}`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with ${code} before listening: ${output}`));
    };
    child.once("exit", onExit);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /S3rver listening on [\d.]+:(\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      // Never keep the test process alive for the server's sake; kill it when the test exits.
      child.unref();
      (child.stdout as unknown as { unref(): void }).unref();
      (child.stderr as unknown as { unref(): void }).unref();
      resolve({ child, port: Number(match[1]) });
    });
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.ref(); // an unreferenced child would let the event loop end before "exit" arrives
  child.kill("SIGKILL");
  await exited;
}

export async function startS3rver(opts: { dir?: string } = {}): Promise<S3rverHandle> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? freshDir("litepaste-s3rver");
  let { child, port } = await launch(dir, 0);
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket: BUCKET,
    dir,
    env: { LITESTREAM_ACCESS_KEY_ID: "S3RVER", LITESTREAM_SECRET_ACCESS_KEY: "S3RVER" },
    url: (prefix) => `s3://${BUCKET}/${prefix.replace(/^\/+/, "")}?endpoint=${endpoint}`,
    stop: () => kill(child),
    async restart() {
      await kill(child);
      ({ child, port } = await launch(dir, port));
    },
    async dispose() {
      await kill(child);
      process.off("exit", killOnExit);
      if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
