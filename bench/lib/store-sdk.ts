// The AWS SDK client litepaste itself would build for a replica URL (same region, endpoint,
// path style, checksum and timeout settings, credentials), for baselines that talk to the
// store directly with the SDK.

import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import type { Readable } from "node:stream";
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

/** Every key under the replica's generations/, page after page, in key order. */
export async function listGenerationKeys({ s3, bucket, prefix }: StoreSdk): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}generations/`, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** One object's body, as the SDK streams it. */
export async function getObjectStream({ s3, bucket }: StoreSdk, key: string): Promise<Readable> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return response.Body as Readable;
}
