// The replica URL argument that restore, snapshots, generations and wal take.

import { UsageError } from "../internal/usage-error.js";
import type { ReplicaClient } from "../replication/replica/client.js";
import { isGenerationId } from "../replication/replica/layout.js";
import { openReplicaClient, parseReplicaUrl, ReplicaUrlError } from "../replication/replica/url.js";

export const URL_HELP = `URL is s3://bucket/path[?endpoint=URL&region=REGION&forcePathStyle=true], file:///dir
or a directory path. S3 credentials come from LITESTREAM_ACCESS_KEY_ID and
LITESTREAM_SECRET_ACCESS_KEY, else the AWS credential chain; the endpoint and region
from the URL, else LITESTREAM_ENDPOINT / AWS_ENDPOINT_URL_S3 and LITESTREAM_REGION /
AWS_REGION.
`;

export interface ReplicaArg {
  readonly client: ReplicaClient;
  /** "s3" or "file": the replica column of the tables. */
  readonly replicaType: string;
}

/** The one URL after the flags; a missing, extra or malformed one is a UsageError. */
export function openReplicaArg(positional: readonly string[], env: NodeJS.ProcessEnv): ReplicaArg {
  if (positional.length === 0 || positional[0] === "") throw new UsageError("replica URL required");
  if (positional.length > 1) {
    throw new UsageError(`too many arguments: ${positional.slice(1).join(" ")} (flags go before the URL)`);
  }
  const url = positional[0]!;
  try {
    return { client: openReplicaClient(url, env), replicaType: parseReplicaUrl(url, env).kind };
  } catch (err) {
    if (err instanceof ReplicaUrlError) throw new UsageError(err.message);
    throw err;
  }
}

/** -generation (restore and wal), checked. */
export function parseGeneration(value: string | undefined): string | undefined {
  if (value !== undefined && !isGenerationId(value)) {
    throw new UsageError(`invalid -generation "${value}": expected 16 lowercase hex characters`);
  }
  return value;
}
