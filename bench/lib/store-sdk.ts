// The AWS SDK client litepaste itself would build for a replica URL (same region, endpoint,
// path style, checksum and timeout settings, credentials), for baselines that talk to the
// store directly with the SDK.

import type { S3Client } from "@aws-sdk/client-s3";
import { openReplicaClient, parseReplicaUrl } from "../../replication/replica/url.js";
import { S3ReplicaClient } from "../../replication/replica/s3/client.js";

export interface StoreSdk {
  readonly s3: S3Client;
  readonly bucket: string;
  /** The replica's key prefix: "" or ending in "/". */
  readonly prefix: string;
}

export function openStoreSdk(url: string, env: NodeJS.ProcessEnv): StoreSdk {
  const location = parseReplicaUrl(url, env);
  const client = openReplicaClient(url, env);
  if (location.kind !== "s3" || !(client instanceof S3ReplicaClient)) throw new Error(`not an S3 replica URL: ${url}`);
  return { s3: client.s3, bucket: location.bucket, prefix: location.prefix };
}
