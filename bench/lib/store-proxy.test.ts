// The counting proxy the replication benchmarks rely on: it must forward S3 requests
// unchanged (signatures stay valid) and name each one's operation correctly.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { openReplicaClient } from "../../replication/replica/url.js";
import { startS3rver, type S3rverHandle } from "../../testkit/s3rver.js";
import { countByOperation, isSnapshotUpload, isWalSegmentPut, replicaUrlVia, startStoreProxy, storeEndpoint, type StoreProxy } from "./store-proxy.js";

let s3: S3rverHandle;
let proxy: StoreProxy;

before(async () => {
  s3 = await startS3rver();
  proxy = await startStoreProxy(s3.endpoint, { keepBody: (operation) => operation === "PutObject" });
});

after(async () => {
  await proxy.close();
  await s3.dispose();
});

test("requests made through the proxy reach the store and are recorded by operation, key and size", async () => {
  const url = replicaUrlVia(proxy, s3.url("counted"));
  const client = openReplicaClient(url, s3.env);
  const segmentKey = "generations/0123456789abcdef/wal/00000000_00000020.wal.lz4";
  const snapshotKey = "generations/0123456789abcdef/snapshots/00000000.snapshot.lz4";
  await client.put(segmentKey, Buffer.from("segment bytes"));
  await client.putStream(snapshotKey, Readable.from([Buffer.alloc(1000, 1)]));
  const listed = [];
  for await (const object of client.list("generations/")) listed.push(object.key);
  const body = await client.get(segmentKey);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  await client.delete([segmentKey]);

  assert.deepEqual(listed.sort(), [snapshotKey, segmentKey].sort());
  assert.equal(Buffer.concat(chunks).toString(), "segment bytes");
  assert.deepEqual(countByOperation(proxy.requests), { PutObject: 2, ListObjectsV2: 1, GetObject: 1, DeleteObjects: 1 });
  const segment = proxy.requests.find((r) => r.key === `counted/${segmentKey}` && r.operation === "PutObject")!;
  assert.equal(segment.bytes, "segment bytes".length);
  assert.equal(segment.body?.toString(), "segment bytes");
  assert.equal(segment.status, 200);
  assert.ok(segment.end >= segment.start);
  assert.deepEqual(proxy.requests.filter(isWalSegmentPut).map((r) => r.key), [`counted/${segmentKey}`]);
  assert.deepEqual(proxy.requests.filter(isSnapshotUpload).map((r) => r.key), [`counted/${snapshotKey}`]);
  assert.equal(proxy.requests.find((r) => r.operation === "GetObject")!.body, undefined, "bodies are kept only when asked for");
});

test("the store's endpoint is taken from the replica URL, and a URL without one is refused with the reason", () => {
  assert.equal(storeEndpoint(s3.url("x"), {}), s3.endpoint);
  assert.throws(() => storeEndpoint("s3://bucket/path", {}), /needs an S3-compatible endpoint/);
});
