// The region of an AWS bucket none was given for: looked up (GetBucketLocation, as
// Litestream does) or, when the credentials may not ask, found by following AWS's region
// redirects. Against a real proxy that plays a bucket in eu-west-3 in front of s3rver.
// The parser leaves the region undefined only for AWS buckets (url.test.ts); AWS itself is
// out of reach here, so the client is pointed at the proxy with that undefined region.

import { test } from "node:test";
import assert from "node:assert/strict";
import { S3ReplicaClient } from "./client.js";
import { readAll } from "../contract.js";
import { startS3rver } from "../../../testkit/s3rver.js";
import { useFileServer } from "../../../testkit/file-server.js";
import { startRegionProxy } from "../../../testkit/region-proxy.js";

const s3 = useFileServer(startS3rver);
let counter = 0;

function clientOptions(endpoint: string) {
  return {
    bucket: s3.bucket, prefix: `region-${++counter}/`, endpoint, forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }, credentialsSource: "test", description: "s3://region-test",
  };
}

function clientVia(endpoint: string, requests: string[] = []): S3ReplicaClient {
  return new S3ReplicaClient({ ...clientOptions(endpoint), region: undefined, onRequest: (operation) => requests.push(operation) });
}

async function roundTrip(client: S3ReplicaClient): Promise<void> {
  await client.put("a", Buffer.from("first"));
  await client.put("b", Buffer.from("second"));
  assert.equal((await readAll(await client.get("a"))).toString(), "first");
}

test("no region given: GetBucketLocation once, then every request signed for the bucket's region", async () => {
  const proxy = await startRegionProxy({ target: s3.endpoint, region: "eu-west-3" });
  try {
    const requests: string[] = [];
    const client = clientVia(proxy.endpoint, requests);
    await roundTrip(client);
    assert.equal(await client.bucketRegion(), "eu-west-3");
    assert.deepEqual(proxy.log, ["location", "forwarded:eu-west-3", "forwarded:eu-west-3", "forwarded:eu-west-3"]);
    // The lookup's request is counted like any other object-store request.
    assert.deepEqual(requests, ["GetBucketLocation", "PutObject", "PutObject", "GetObject"]);
  } finally {
    await proxy.close();
  }
});

test("GetBucketLocation answers EU, the old name of eu-west-1", async () => {
  const proxy = await startRegionProxy({ target: s3.endpoint, region: "eu-west-1", location: "EU" });
  try {
    const client = clientVia(proxy.endpoint);
    await roundTrip(client);
    assert.equal(await client.bucketRegion(), "eu-west-1");
    assert.ok(!proxy.log.includes("redirect"), proxy.log.join(" "));
  } finally {
    await proxy.close();
  }
});

test("credentials that may not ask for the location: us-east-1, and AWS's region redirects are followed", async () => {
  const proxy = await startRegionProxy({ target: s3.endpoint, region: "ap-southeast-2", location: "forbidden" });
  try {
    const client = clientVia(proxy.endpoint);
    await roundTrip(client);
    assert.equal(await client.bucketRegion(), "us-east-1");
    // Each request was first signed for us-east-1, redirected, and sent again for the bucket's region.
    assert.deepEqual(proxy.log, [
      "location", "redirect", "forwarded:ap-southeast-2", "redirect", "forwarded:ap-southeast-2", "redirect", "forwarded:ap-southeast-2",
    ]);
  } finally {
    await proxy.close();
  }
});

test("a region given is used as it is: no lookup", async () => {
  const proxy = await startRegionProxy({ target: s3.endpoint, region: "eu-north-1" });
  try {
    const client = new S3ReplicaClient({ ...clientOptions(proxy.endpoint), region: "eu-north-1" });
    await roundTrip(client);
    assert.deepEqual(proxy.log, ["forwarded:eu-north-1", "forwarded:eu-north-1", "forwarded:eu-north-1"]);
  } finally {
    await proxy.close();
  }
});
