// A real S3 server for tests: s3rver in a child process on 127.0.0.1, so a test can kill it
// and start it again on the same port and directory to play an outage.
// See docs/design/replication.md, "A real S3 server for tests".

import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { startChildServer, type ServerControls } from "./child-server.js";
import { freshDir } from "./scratch.js";

const require = createRequire(import.meta.url);
const S3RVER_BIN = path.join(path.dirname(require.resolve("s3rver/package.json")), "bin/s3rver.js");
/** Makes s3rver's PUTs all or nothing, as S3's are (see there). */
const ATOMIC_PUT = new URL("./s3rver-atomic-put.js", import.meta.url).href;
const BUCKET = "litepaste-test";

export interface S3rverHandle extends ServerControls {
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
}

export async function startS3rver(opts: { dir?: string } = {}): Promise<S3rverHandle> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? freshDir("litepaste-s3rver");
  const server = await startChildServer({
    name: "s3rver",
    command: process.execPath,
    // --openssl-legacy-provider: without it s3rver's ListObjectsV2 pagination answers 500.
    args: (port) => [
      "--openssl-legacy-provider", "--import", ATOMIC_PUT, S3RVER_BIN,
      "--directory", dir, "--address", "127.0.0.1", "--port", String(port), "--silent",
      "--configure-bucket", BUCKET,
    ],
    listening: /S3rver listening on [\d.]+:(\d+)/,
  });
  const endpoint = `http://127.0.0.1:${server.port}`;
  return {
    endpoint,
    bucket: BUCKET,
    dir,
    env: { LITESTREAM_ACCESS_KEY_ID: "S3RVER", LITESTREAM_SECRET_ACCESS_KEY: "S3RVER" },
    url: (prefix) => `s3://${BUCKET}/${prefix.replace(/^\/+/, "")}?endpoint=${endpoint}`,
    stop: () => server.stop(),
    restart: () => server.restart(),
    async dispose() {
      await server.dispose();
      if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
