// The GCS client short of a GCS server (none can be run on the project's machines, see
// docs/replication.md): Litestream's URL form, the Storage options, the mapping of the
// library's errors, and a real refused connection. The store itself is not exercised here.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openReplicaClient } from "../url.js";
import { GcsReplicaClient, gcsStorageOptions, parseGcsUrl, translateGcsError } from "./client.js";
import { ReplicaObjectNotFoundError } from "../client.js";
import { listAll } from "../contract.js";
import { freePort } from "../../../testkit/ports.js";

test("gcs URLs: Litestream's gcs://BUCKET/PATH; ?endpoint= or STORAGE_EMULATOR_HOST for a compatible server", () => {
  assert.deepEqual(parseGcsUrl("gcs://my-bucket/litepaste/db/", "d", {}), { bucket: "my-bucket", prefix: "litepaste/db/", endpoint: undefined });
  assert.deepEqual(parseGcsUrl("gcs://my-bucket", "d", {}), { bucket: "my-bucket", prefix: "", endpoint: undefined });
  assert.equal(parseGcsUrl("gcs://b/p?endpoint=http://127.0.0.1:4443/", "d", {}).endpoint, "http://127.0.0.1:4443");
  assert.equal(parseGcsUrl("gcs://b/p", "d", { STORAGE_EMULATOR_HOST: "http://fake:4443" }).endpoint, "http://fake:4443");
  const client = openReplicaClient("gcs://my-bucket/litepaste/db", {});
  assert.ok(client instanceof GcsReplicaClient);
  assert.equal(client.description, "gcs://my-bucket/litepaste/db");
  assert.equal(client.bucket.name, "my-bucket");
});

test("gcs URLs: what is wrong is named, and nothing secret is echoed", () => {
  assert.throws(() => openReplicaClient("gcs:///p", {}), /bucket name is missing/);
  assert.throws(() => openReplicaClient("gcs://b/p?region=x", {}), /unknown parameter "region"/);
  assert.throws(() => openReplicaClient("gcs://b:443/p", {}), /a bucket name has no port/);
  assert.throws(() => openReplicaClient("gcs://b/p?endpoint=nope", {}), /endpoint is not a URL/);
  assert.throws(() => openReplicaClient("gcs://user:s3cr3t@b/p", {}), (err: Error) => {
    assert.match(err.message, /credentials do not belong in the URL: set GOOGLE_APPLICATION_CREDENTIALS/);
    assert.ok(!err.message.includes("s3cr3t"));
    return true;
  });
});

test("gcs Storage options: the key file from the environment given, a custom endpoint, 3 attempts per request", () => {
  const location = parseGcsUrl("gcs://b/p?endpoint=http://127.0.0.1:4443", "d", {});
  assert.deepEqual(gcsStorageOptions(location, { GOOGLE_APPLICATION_CREDENTIALS: "/etc/gcs-key.json" }), {
    retryOptions: { autoRetry: true, maxRetries: 2 },
    keyFilename: "/etc/gcs-key.json",
    apiEndpoint: "http://127.0.0.1:4443",
  });
  assert.deepEqual(gcsStorageOptions(parseGcsUrl("gcs://b", "d", {}), {}), { retryOptions: { autoRetry: true, maxRetries: 2 } },
    "no key file: Google's default credential chain");
});

test("gcs errors: the library's answers become messages a person can act on", () => {
  const location = parseGcsUrl("gcs://b/p", "d", {});
  const where = "gcs://b/p";
  const of = (err: object, operation = "put", key = "generations/x") => translateGcsError(Object.assign(new Error((err as { message?: string }).message ?? "x"), err), operation, key, location, where);
  const missing = of({ code: 404, message: "No such object: b/p/generations/x" }, "get");
  assert.ok(missing instanceof ReplicaObjectNotFoundError);
  assert.equal(missing.key, "generations/x");
  assert.match(of({ code: 404, message: "The specified bucket does not exist." }, "list").message, /GCS bucket "b" does not exist \(replica gcs:\/\/b\/p\)/);
  assert.match(of({ code: 403, message: "x@y.iam.gserviceaccount.com does not have storage.objects.create access" }).message,
    /GCS rejected the credentials \(403\) for put in gcs:\/\/b\/p: check GOOGLE_APPLICATION_CREDENTIALS, and that the account may put on bucket "b"/);
  assert.match(of({ code: 401, message: "Invalid Credentials" }).message, /GCS rejected the credentials \(401\)/);
  assert.match(of({ message: "Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication" }).message,
    /no GCS credentials for gcs:\/\/b\/p: set GOOGLE_APPLICATION_CREDENTIALS/);
  assert.match(of({ code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:1" }).message, /cannot reach GCS endpoint storage.googleapis.com \(ECONNREFUSED/);
  assert.match(of({ code: 500, message: "backend error" }).message, /GCS put of generations\/x failed in gcs:\/\/b\/p: 500: backend error/);
});

test("gcs client: a server that refuses connections is reported as unreachable (a real connection attempt)", async () => {
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  const client = openReplicaClient(`gcs://bucket/db?endpoint=${endpoint}`, {});
  await assert.rejects(listAll(client, "generations/"), new RegExp(`cannot reach GCS endpoint ${endpoint}`));
  await assert.rejects(client.get("generations/x"), new RegExp(`cannot reach GCS endpoint ${endpoint}`));
  assert.equal(await client.putIfMatch("litepaste-lease.json", Buffer.from("x"), '"not-a-generation"'), null, "no request for an etag that is no generation");
});
