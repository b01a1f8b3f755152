import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { FileReplicaClient } from "./file/client.js";
import { describeReplicaUrl, openReplicaClient, parseReplicaUrl, ReplicaUrlError } from "./url.js";
import { S3ReplicaClient, s3ClientConfig } from "./s3/client.js";
import { SECRETS, tracesOf, urlsCarrying } from "../../testkit/secrets.js";

test("s3 URLs: bucket, path prefix, and the query's endpoint/region/forcePathStyle", () => {
  assert.deepEqual(parseReplicaUrl("s3://my-bucket/litepaste/db?endpoint=http://minio:9000/&region=eu-west-1", {}), {
    kind: "s3", bucket: "my-bucket", prefix: "litepaste/db/", endpoint: "http://minio:9000", region: "eu-west-1", forcePathStyle: true, skipVerify: false,
  });
  // An AWS bucket with no region anywhere: looked up at first use (region undefined), as Litestream does.
  assert.deepEqual(parseReplicaUrl("s3://my-bucket", {}), {
    kind: "s3", bucket: "my-bucket", prefix: "", endpoint: undefined, region: undefined, forcePathStyle: false, skipVerify: false,
  });
  const noScheme = parseReplicaUrl("s3://b/p/?endpoint=s3.us-west-000.backblazeb2.com&forcePathStyle=false", {});
  assert.equal(noScheme.kind === "s3" && noScheme.endpoint, "https://s3.us-west-000.backblazeb2.com");
  assert.equal(noScheme.kind === "s3" && noScheme.forcePathStyle, false);
});

test("s3 URLs: endpoint and region fall back to the environment in Litestream's order", () => {
  const env = { LITESTREAM_ENDPOINT: "http://a:1", AWS_ENDPOINT_URL_S3: "http://b:2", LITESTREAM_REGION: "r1", AWS_REGION: "r2" };
  assert.deepEqual(parseReplicaUrl("s3://b/p", env), {
    kind: "s3", bucket: "b", prefix: "p/", endpoint: "http://a:1", region: "r1", forcePathStyle: true, skipVerify: false,
  });
  const aws = parseReplicaUrl("s3://b/p", { AWS_ENDPOINT_URL_S3: "http://b:2", AWS_REGION: "r2" });
  assert.ok(aws.kind === "s3" && aws.endpoint === "http://b:2" && aws.region === "r2");
  const query = parseReplicaUrl("s3://b/p?endpoint=http://q:3&region=rq", env);
  assert.ok(query.kind === "s3" && query.endpoint === "http://q:3" && query.region === "rq");
});

test("file URLs and absolute paths are directory replicas; a relative path is an error", () => {
  assert.deepEqual(parseReplicaUrl("file:///var/lib/replica", {}), { kind: "file", dir: "/var/lib/replica" });
  assert.deepEqual(parseReplicaUrl("/var/lib/replica", {}), { kind: "file", dir: "/var/lib/replica" });
  assert.deepEqual(parseReplicaUrl("/var/lib/../replica/", {}), { kind: "file", dir: path.resolve("/var/replica") });
  for (const relative of ["replica", "./replica", "s3:/b/db", "data/replica"]) {
    assert.throws(() => parseReplicaUrl(relative, {}), (err: Error) => {
      assert.ok(err instanceof ReplicaUrlError);
      assert.match(err.message, /a directory replica needs an absolute path/);
      assert.match(err.message, /accepted: s3:\/\/bucket\/path.*BUCKET\.s3\.REGION\.backblazeb2\.com.*file:\/\/\/absolute\/dir or a directory path starting with "\/"/);
      return true;
    });
  }
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

test("s3 host forms: Litestream v0.3's provider hosts give the bucket, endpoint, region and path-style", () => {
  const cases: [string, { bucket: string; endpoint: string | undefined; region: string | undefined; forcePathStyle: boolean }][] = [
    ["s3://my-bucket.s3.us-west-000.backblazeb2.com/db", { bucket: "my-bucket", endpoint: "https://s3.us-west-000.backblazeb2.com", region: "us-west-000", forcePathStyle: true }],
    ["s3://my-bucket.nyc3.digitaloceanspaces.com/db", { bucket: "my-bucket", endpoint: "https://nyc3.digitaloceanspaces.com", region: "nyc3", forcePathStyle: true }],
    ["s3://my-bucket.s3.fr-par.scw.cloud/db", { bucket: "my-bucket", endpoint: "https://s3.fr-par.scw.cloud", region: "fr-par", forcePathStyle: true }],
    ["s3://my-bucket.us-southeast-1.linodeobjects.com/db", { bucket: "my-bucket", endpoint: "https://us-southeast-1.linodeobjects.com", region: "us-southeast-1", forcePathStyle: true }],
    // Filebase names no region: the default for custom endpoints.
    ["s3://my-bucket.s3.filebase.com/db", { bucket: "my-bucket", endpoint: "https://s3.filebase.com", region: "us-east-1", forcePathStyle: true }],
    ["s3://my-bucket.localhost:9000/db", { bucket: "my-bucket", endpoint: "http://localhost:9000", region: "us-east-1", forcePathStyle: true }],
    ["s3://my-bucket.localhost/db", { bucket: "my-bucket", endpoint: "http://localhost", region: "us-east-1", forcePathStyle: true }],
    ["s3://dotted.bucket.name/db", { bucket: "dotted.bucket.name", endpoint: undefined, region: undefined, forcePathStyle: false }],
    // Host matching ignores case; the bucket keeps the case it was written in.
    ["s3://My-Bucket.S3.EU-Central-003.Backblazeb2.com/db", { bucket: "My-Bucket", endpoint: "https://s3.eu-central-003.backblazeb2.com", region: "eu-central-003", forcePathStyle: true }],
  ];
  for (const [url, expected] of cases) {
    const location = parseReplicaUrl(url, {});
    assert.ok(location.kind === "s3", url);
    const { bucket, endpoint, region, forcePathStyle, prefix } = location;
    assert.deepEqual({ bucket, endpoint, region, forcePathStyle }, expected, url);
    assert.equal(prefix, "db/", url);
  }
  // The host form wins over the environment's endpoint and region; the query wins over both.
  const env = { LITESTREAM_ENDPOINT: "http://env:1", LITESTREAM_REGION: "env-region" };
  const b2 = parseReplicaUrl("s3://b.s3.us-west-000.backblazeb2.com/db", env);
  assert.ok(b2.kind === "s3" && b2.endpoint === "https://s3.us-west-000.backblazeb2.com" && b2.region === "us-west-000");
  const overridden = parseReplicaUrl("s3://b.s3.us-west-000.backblazeb2.com/db?endpoint=http://proxy:8&region=q&force-path-style=false", env);
  assert.ok(overridden.kind === "s3");
  assert.deepEqual([overridden.bucket, overridden.endpoint, overridden.region, overridden.forcePathStyle], ["b", "http://proxy:8", "q", false]);
  assert.throws(() => parseReplicaUrl("s3://localhost:9000/db", {}), /the bucket name is missing/);
  assert.throws(() => parseReplicaUrl("s3://bucket:9000/db", {}), /a port belongs to an endpoint/);
  assert.throws(() => parseReplicaUrl("s3://b/db?region=eu%20west", {}), /the region must be letters, digits and dashes/);
});

test("s3 query options: Litestream's skipVerify / skip-verify and force-path-style spellings", () => {
  const verify = parseReplicaUrl("s3://b/db?endpoint=https://minio:9000&skip-verify=true", {});
  assert.ok(verify.kind === "s3" && verify.skipVerify && verify.forcePathStyle);
  const camel = parseReplicaUrl("s3://b/db?endpoint=https://minio:9000&skipVerify=true&forcePathStyle=false", {});
  assert.ok(camel.kind === "s3" && camel.skipVerify && !camel.forcePathStyle);
  assert.throws(() => parseReplicaUrl("s3://b/db?skipVerify=1", {}), /skipVerify must be true or false/);
  const base = { bucket: "b", prefix: "", region: "us-east-1", endpoint: "https://minio:9000", forcePathStyle: true, credentialsSource: "test", description: "s3://b" };
  const handler = s3ClientConfig({ ...base, skipVerify: true }).requestHandler as { httpsAgent?: { rejectUnauthorized?: boolean } };
  assert.equal(handler.httpsAgent?.rejectUnauthorized, false);
  assert.equal((s3ClientConfig(base).requestHandler as { httpsAgent?: unknown }).httpsAgent, undefined);
  // Every client follows a region redirect; a client with no region starts from us-east-1.
  assert.equal(s3ClientConfig({ ...base, region: undefined }).followRegionRedirects, true);
  assert.equal(s3ClientConfig({ ...base, region: undefined }).region, "us-east-1");
});

test("quotes around a URL are removed with a warning; the target shown is the one used", () => {
  for (const quoted of ['"s3://b/db?endpoint=http://h:9000"', "'s3://b/db?endpoint=http://h:9000'", '  "s3://b/db?endpoint=http://h:9000"\n']) {
    const warnings: string[] = [];
    const client = openReplicaClient(quoted, {}, { onWarning: (m) => warnings.push(m) });
    assert.ok(client instanceof S3ReplicaClient, quoted);
    assert.equal(client.description, "s3://b/db?endpoint=http://h:9000");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /wrapped in quotes; using s3:\/\/b\/db\?endpoint=http:\/\/h:9000 without them/);
  }
  const dir = parseReplicaUrl("'/var/lib/replica'", {});
  assert.deepEqual(dir, { kind: "file", dir: "/var/lib/replica" });
  // Unmatched or inner quotes are not stripped: the URL is then what it says, an error.
  assert.throws(() => parseReplicaUrl('"s3://b/db', {}), /absolute path/);
  const plain: string[] = [];
  openReplicaClient("s3://b/db?endpoint=http://h:9000", {}, { onWarning: (m) => plain.push(m) });
  assert.deepEqual(plain, []);
});

test("a #fragment is refused (Litestream would drop it and replicate elsewhere); in a plain path it is a character", () => {
  assert.throws(() => parseReplicaUrl("s3://b/db#prod", {}), (err: Error) => {
    assert.match(err.message, /a "#" has no place in a replica URL: write it %23/);
    assert.ok(!err.message.includes("prod"), err.message);
    return true;
  });
  assert.throws(() => parseReplicaUrl("file:///data/replica#x", {}), /"#" has no place/);
  const encoded = parseReplicaUrl("s3://b/db%23prod", {});
  assert.ok(encoded.kind === "s3" && encoded.prefix === "db#prod/");
  assert.deepEqual(parseReplicaUrl("/data/replica#1", {}), { kind: "file", dir: "/data/replica#1" });
});

test("secrets with / # ? % @ : &, raw or percent-encoded, never reach a description or an error", () => {
  for (const secret of SECRETS) {
    for (const url of urlsCarrying(secret)) {
      const shown = describeReplicaUrl(url);
      assert.deepEqual(tracesOf(secret, shown), [], `${url} described as ${shown}`);
      let message = "(accepted)";
      try {
        openReplicaClient(url, {});
      } catch (err) {
        message = (err as Error).message;
      }
      assert.deepEqual(tracesOf(secret, message), [], `${url}: ${message}`);
      assert.deepEqual(tracesOf(secret, describeReplicaUrl(url)), []);
    }
  }
  // What is kept: the bucket, the path and an endpoint stripped of its credentials.
  assert.equal(describeReplicaUrl(`s3://AKIAEXAMPLE:${SECRETS[0]}@bucket/db?endpoint=http://127.0.0.1:9`), "s3://bucket/db?endpoint=http://127.0.0.1:9");
  assert.equal(describeReplicaUrl(`s3://bucket/db?endpoint=${encodeURIComponent(`http://u:${SECRETS[0]}@h:9`)}&region=eu-west-3`),
    "s3://bucket/db?endpoint=http://h:9&region=eu-west-3");
  assert.equal(describeReplicaUrl(`sftp://user:${SECRETS[1]}@127.0.0.1:22/db`), "sftp://user@127.0.0.1:22/db");
  // An "@" in a path reads as credentials (so that a secret is never taken for a path): written %40 it is a path.
  assert.throws(() => parseReplicaUrl("s3://b/db@2024", {}), /credentials do not belong in the URL.*written %40/);
  const at = parseReplicaUrl("s3://b/db%402024", {});
  assert.ok(at.kind === "s3" && at.prefix === "db@2024/");
});
