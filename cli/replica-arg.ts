// The replica URL argument that restore, snapshots, generations and wal take.

import { UsageError } from "../internal/usage-error.js";
import type { CommandIo } from "./command.js";
import type { ReplicaClient } from "../replication/replica/client.js";
import { isGenerationId } from "../replication/replica/layout.js";
import { openReplicaClient, ReplicaUrlError, replicaTypeOf } from "../replication/replica/url.js";

export const URL_HELP = `URL is s3://bucket/path[?endpoint=URL&region=REGION&forcePathStyle=true], a provider
host as s3://BUCKET.s3.REGION.backblazeb2.com/path, file:///dir or an absolute directory
path (see docs/replication.md). S3 credentials come from LITESTREAM_ACCESS_KEY_ID and
LITESTREAM_SECRET_ACCESS_KEY, else the AWS credential chain; the endpoint and region
from the URL, else LITESTREAM_ENDPOINT / AWS_ENDPOINT_URL_S3 and LITESTREAM_REGION /
AWS_REGION.
`;

export interface ReplicaArg {
  readonly client: ReplicaClient;
  /** "s3" or "file": the replica column of the tables. */
  readonly replicaType: string;
}

/** The one URL after the flags; a missing, extra or malformed one is a UsageError. `command` prefixes the URL's warnings. */
export function openReplicaArg(command: string, positional: readonly string[], io: CommandIo): ReplicaArg {
  const env = io.env;
  if (positional.length === 0 || positional[0] === "") throw new UsageError("replica URL required");
  if (positional.length > 1) {
    throw new UsageError(`too many arguments: ${positional.slice(1).join(" ")} (flags go before the URL)`);
  }
  const url = positional[0]!;
  try {
    const onWarning = (message: string) => io.stderr.write(`litepaste ${command}: warning: ${message}\n`);
    return { client: openReplicaClient(url, env, { onWarning }), replicaType: replicaTypeOf(url, env) };
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
