// Where the S3 scenarios replicate to: a local s3rver by default, or a real bucket named
// by BENCH_REPLICA_URL (bench/README.md), each run under a prefix of its own.

import { describeReplicaUrl } from "../../replication/replica/url.js";
import { startS3rver } from "../../testkit/s3rver.js";
import type { BenchObjectStore } from "../scenario.js";

/** The variables litepaste reads to reach a bucket (docs/api.md), passed through when set. */
const STORE_VARIABLES = [
  "LITESTREAM_ACCESS_KEY_ID",
  "LITESTREAM_SECRET_ACCESS_KEY",
  "LITESTREAM_REGION",
  "LITESTREAM_ENDPOINT",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_REGION",
  "AWS_ENDPOINT_URL_S3",
  "AWS_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "HOME",
];

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

export interface OpenedStore extends BenchObjectStore {
  close(): Promise<void>;
}

function bucketStore(baseUrl: string, env: NodeJS.ProcessEnv, runId: string): OpenedStore {
  if (!/^s3:\/\/[^/?]+/i.test(baseUrl)) throw new Error(`BENCH_REPLICA_URL must be an s3:// URL, got "${describeReplicaUrl(baseUrl)}"`);
  const [base = "", query] = baseUrl.split(/\?(.*)/s, 2);
  const passed = definedOnly(Object.fromEntries(STORE_VARIABLES.map((name) => [name, env[name]])));
  return {
    url: (prefix) => `${base.replace(/\/+$/, "")}/${runId}/${prefix.replace(/^\/+/, "")}${query ? `?${query}` : ""}`,
    env: passed,
    description: `${describeReplicaUrl(baseUrl)} (under ${runId}/)`,
    close: async () => {},
  };
}

/** `runId` keeps one run's objects apart from another's in a shared bucket. */
export async function openBenchStore(env: NodeJS.ProcessEnv, runId: string): Promise<OpenedStore> {
  const bucketUrl = env.BENCH_REPLICA_URL;
  if (bucketUrl) return bucketStore(bucketUrl, env, runId);
  const s3rver = await startS3rver();
  return {
    url: (prefix) => s3rver.url(prefix),
    env: definedOnly(s3rver.env),
    description: "s3rver on 127.0.0.1 (a child process on the same machine)",
    close: () => s3rver.dispose(),
  };
}
