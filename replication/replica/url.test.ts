import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { FileReplicaClient } from "./file/client.js";
import { describeReplicaUrl, openReplicaClient, parseReplicaUrl, ReplicaUrlError } from "./url.js";
import { S3ReplicaClient, s3ClientConfig } from "./s3/client.js";

test("s3 URLs: bucket, path prefix, and the query's endpoint/region/forcePathStyle", () => {
  assert.deepEqual(parseReplicaUrl("s3://my-bucket/litepaste/db?endpoint=http://minio:9000/&region=eu-west-1", {}), {
    kind: "s3", bucket: "my-bucket", prefix: "litepaste/db/", endpoint: "http://minio:9000", region: "eu-west-1", forcePathStyle: true,
  });
  assert.deepEqual(parseReplicaUrl("s3://my-bucket", {}), {
    kind: "s3", bucket: "my-bucket", prefix: "", endpoint: undefined, region: "us-east-1", forcePathStyle: false,
  });
  const noScheme = parseReplicaUrl("s3://b/p/?endpoint=s3.us-west-000.backblazeb2.com&forcePathStyle=false", {});
  assert.equal(noScheme.kind === "s3" && noScheme.endpoint, "https://s3.us-west-000.backblazeb2.com");
  assert.equal(noScheme.kind === "s3" && noScheme.forcePathStyle, false);
});

test("s3 URLs: endpoint and region fall back to the environment in Litestream's order", () => {
  const env = { LITESTREAM_ENDPOINT: "http://a:1", AWS_ENDPOINT_URL_S3: "http://b:2", LITESTREAM_REGION: "r1", AWS_REGION: "r2" };
  assert.deepEqual(parseReplicaUrl("s3://b/p", env), {
    kind: "s3", bucket: "b", prefix: "p/", endpoint: "http://a:1", region: "r1", forcePathStyle: true,
  });
  const aws = parseReplicaUrl("s3://b/p", { AWS_ENDPOINT_URL_S3: "http://b:2", AWS_REGION: "r2" });
  assert.ok(aws.kind === "s3" && aws.endpoint === "http://b:2" && aws.region === "r2");
  const query = parseReplicaUrl("s3://b/p?endpoint=http://q:3&region=rq", env);
  assert.ok(query.kind === "s3" && query.endpoint === "http://q:3" && query.region === "rq");
});

test("file URLs and plain paths are directory replicas", () => {
  assert.deepEqual(parseReplicaUrl("file:///var/lib/replica", {}), { kind: "file", dir: "/var/lib/replica" });
  assert.deepEqual(parseReplicaUrl("/var/lib/replica", {}), { kind: "file", dir: "/var/lib/replica" });
  assert.deepEqual(parseReplicaUrl("replica", {}), { kind: "file", dir: path.resolve("replica") });
  const client = openReplicaClient("/var/lib/replica", {});
  assert.ok(client instanceof FileReplicaClient);
  assert.equal(client.description, "file:///var/lib/replica");
});

test("unusable URLs fail with the accepted forms, and never echo credentials", () => {
  const cases: [string, RegExp][] = [
    ["gs://bucket/path", /unsupported scheme "gs"/],
    ["s3:///path", /bucket name is missing/],
    ["s3://AKIAKEY:SECRETVALUE@bucket/path", /credentials do not belong in the URL/],
    ["s3://bucket/path?secretAccessKey=SECRETVALUE", /unknown parameter "secretAccessKey"/],
    ["s3://bucket/path?endpoint=http://user:SECRETVALUE@minio:9000", /endpoint must not carry credentials/],
    ["s3://bucket/path?endpoint=ftp://minio", /endpoint must be an http:\/\/ or https:\/\/ URL/],
    ["s3://bucket/path?forcePathStyle=yes", /forcePathStyle must be true or false/],
    ["file://host/dir", /file URL needs an absolute path/],
    ["", /it is empty/],
  ];
  for (const [url, pattern] of cases) {
    assert.throws(() => openReplicaClient(url, {}), (err: Error) => {
      assert.ok(err instanceof ReplicaUrlError, url);
      assert.match(err.message, pattern);
      assert.match(err.message, /accepted: s3:\/\/bucket\/path.*file:\/\/\/absolute\/dir or a directory path/);
      assert.ok(!err.message.includes("SECRETVALUE") && !err.message.includes("AKIAKEY"), err.message);
      return true;
    });
  }
});

test("describeReplicaUrl drops userinfo and unknown query parameters", () => {
  assert.equal(describeReplicaUrl("s3://KEY:SECRET@bucket/p?endpoint=http://u:SECRET@h:9000&token=SECRET&region=eu"),
    "s3://bucket/p?endpoint=http://h:9000&region=eu");
  assert.equal(describeReplicaUrl("gs://a:SECRET@bucket/x?k=SECRET"), "gs://bucket/x");
  assert.equal(describeReplicaUrl("/data/replica"), "file:///data/replica");
});

async function credentialsOf(client: S3ReplicaClient) {
  const { accessKeyId, secretAccessKey, sessionToken } = await client.s3.config.credentials();
  return { accessKeyId, secretAccessKey, sessionToken };
}

test("credentials: LITESTREAM_* first, then AWS_* from the given environment, else the SDK chain", async () => {
  const url = "s3://bucket/db?endpoint=http://127.0.0.1:9";
  const explicit = openReplicaClient(url, {
    LITESTREAM_ACCESS_KEY_ID: "L", LITESTREAM_SECRET_ACCESS_KEY: "LS", AWS_ACCESS_KEY_ID: "A", AWS_SECRET_ACCESS_KEY: "AS",
  }) as S3ReplicaClient;
  assert.deepEqual(await credentialsOf(explicit), { accessKeyId: "L", secretAccessKey: "LS", sessionToken: undefined });
  const aws = openReplicaClient(url, { AWS_ACCESS_KEY_ID: "A", AWS_SECRET_ACCESS_KEY: "AS", AWS_SESSION_TOKEN: "T" }) as S3ReplicaClient;
  assert.deepEqual(await credentialsOf(aws), { accessKeyId: "A", secretAccessKey: "AS", sessionToken: "T" });
  assert.throws(() => openReplicaClient(url, { LITESTREAM_ACCESS_KEY_ID: "L" }),
    /LITESTREAM_ACCESS_KEY_ID is set but LITESTREAM_SECRET_ACCESS_KEY is not/);
});

test("custom endpoints get path-style requests and checksums only when required", () => {
  const base = { bucket: "b", prefix: "", region: "us-east-1", credentialsSource: "test", description: "s3://b" };
  const custom = s3ClientConfig({ ...base, endpoint: "http://minio:9000", forcePathStyle: true });
  assert.equal(custom.forcePathStyle, true);
  assert.equal(custom.requestChecksumCalculation, "WHEN_REQUIRED");
  assert.equal(custom.responseChecksumValidation, "WHEN_REQUIRED");
  const aws = s3ClientConfig({ ...base, forcePathStyle: false });
  assert.equal(aws.endpoint, undefined);
  assert.equal(aws.requestChecksumCalculation, undefined);
});
