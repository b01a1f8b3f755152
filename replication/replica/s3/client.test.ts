import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { Readable } from "node:stream";
import { openReplicaClient } from "../url.js";
import type { S3ReplicaClient } from "./client.js";
import { ReplicaObjectNotFoundError, type ReplicaClient } from "../client.js";
import { listAll, readAll, testReplicaClientContract } from "../contract.js";
import { startS3rver } from "../../../testkit/s3rver.js";
import { useFileServer } from "../../../testkit/file-server.js";

const s3 = useFileServer(startS3rver);
let counter = 0;

function newClient(onRequest?: (operation: string) => void): ReplicaClient {
  return openReplicaClient(s3.url(`replica-${++counter}`), s3.env, { onRequest });
}

/** The commands sent through `client`, once each (onRequest counts the SDK's retries too). */
function recordCommands(client: ReplicaClient): string[] {
  const commands: string[] = [];
  (client as S3ReplicaClient).s3.middlewareStack.add(
    (next, context) => (args) => {
      commands.push(context.commandName!.replace(/Command$/, ""));
      return next(args);
    },
    { step: "initialize" },
  );
  return commands;
}

testReplicaClientContract("S3", async () => newClient());

test("S3 client: objects live under the URL's path in the bucket", async () => {
  const client = openReplicaClient(s3.url("nested/path/db"), s3.env);
  await client.put("generations/0000000000000001/snapshots/00000000.snapshot.lz4", Buffer.from("x"));
  const bucketRoot = openReplicaClient(`s3://${s3.bucket}?endpoint=${s3.endpoint}`, s3.env);
  assert.deepEqual((await listAll(bucketRoot, "nested/")).map((o) => o.key),
    ["nested/path/db/generations/0000000000000001/snapshots/00000000.snapshot.lz4"]);
  assert.equal(client.description, `s3://${s3.bucket}/nested/path/db?endpoint=${s3.endpoint}`);
});

test("S3 client: listing pages through more than 1000 objects and deleting batches them", async () => {
  const client = newClient();
  const operations = recordCommands(client);
  const keys = Array.from({ length: 1003 }, (_, i) => `generations/0000000000000001/wal/00000000_${i.toString(16).padStart(8, "0")}.wal.lz4`);
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(keys.slice(i, i + 50).map((key) => client.put(key, Buffer.from(key))));
  }
  const listed = await listAll(client, "generations/");
  assert.deepEqual(listed.map((o) => o.key), [...keys].sort());
  assert.equal(operations.filter((op) => op === "ListObjectsV2").length, 2, "two pages");
  assert.equal(operations.filter((op) => op === "PutObject").length, 1003);

  await client.delete(keys);
  assert.equal(operations.filter((op) => op === "DeleteObjects").length, 2, "batches of 1000");
  assert.deepEqual(await listAll(client, ""), []);
});

test("S3 client: putStream uploads a large snapshot in parts", async () => {
  const operations: string[] = [];
  const client = newClient((op) => operations.push(op));
  const data = randomBytes(11 * 1024 * 1024);
  const chunks = Array.from({ length: 11 }, (_, i) => data.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
  await client.putStream("generations/0000000000000001/snapshots/00000000.snapshot.lz4", Readable.from(chunks));
  assert.deepEqual(await readAll(await client.get("generations/0000000000000001/snapshots/00000000.snapshot.lz4")), data);
  assert.ok(operations.includes("CreateMultipartUpload") && operations.includes("CompleteMultipartUpload"), operations.join());
});

test("S3 client: a missing bucket is named", async () => {
  const client = openReplicaClient(`s3://no-such-bucket/db?endpoint=${s3.endpoint}`, s3.env);
  await assert.rejects(listAll(client, "generations/"), /S3 bucket "no-such-bucket" does not exist/);
  await assert.rejects(client.put("generations/0000000000000001/snapshots/00000000.snapshot.lz4", Buffer.from("x")),
    /S3 bucket "no-such-bucket" does not exist/);
});

test("S3 client: rejected credentials are reported without the secret", async () => {
  // s3rver checks the access key id but not SigV4 signatures, so a wrong key id is what it can reject.
  const secret = "very-secret-value-123";
  const client = openReplicaClient(s3.url("db"), { LITESTREAM_ACCESS_KEY_ID: "WRONG", LITESTREAM_SECRET_ACCESS_KEY: secret });
  await assert.rejects(listAll(client, "generations/"), (err: Error) => {
    assert.match(err.message, /S3 rejected the credentials \(InvalidAccessKeyId\) for ListObjectsV2 in s3:\/\/litepaste-test\/db.*LITESTREAM_ACCESS_KEY_ID/);
    assert.ok(!err.message.includes(secret));
    return true;
  });
});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("S3 client: an endpoint that refuses connections is reported as unreachable", async () => {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const client = openReplicaClient(`s3://bucket/db?endpoint=${endpoint}`, s3.env);
  await assert.rejects(listAll(client, "generations/"), new RegExp(`cannot reach S3 endpoint ${endpoint} \\(ECONNREFUSED`));
  await assert.rejects(client.get("x"), /cannot reach S3 endpoint/);
});

test("S3 client: onRequest counts every attempt, the SDK's retries included", async () => {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const operations: string[] = [];
  const client = openReplicaClient(`s3://bucket/db?endpoint=${endpoint}`, s3.env, { onRequest: (op) => operations.push(op) });
  const commands = recordCommands(client);
  await assert.rejects(client.put("x", Buffer.from("x")), /cannot reach S3 endpoint/);
  assert.deepEqual(commands, ["PutObject"]);
  assert.deepEqual(operations, ["PutObject", "PutObject", "PutObject"], "the SDK's standard retry strategy makes 3 attempts");
});

test("S3 client: works again after the server restarts (an outage ends)", async () => {
  const client = newClient();
  const key = "generations/0000000000000001/wal/00000000_00000000.wal.lz4";
  await client.put(key, Buffer.from("before"));
  await s3.stop();
  await assert.rejects(client.put(key, Buffer.from("during")), /cannot reach S3 endpoint/);
  await s3.restart();
  await client.put(`${key}.2`, Buffer.from("after"));
  assert.equal((await readAll(await client.get(key))).toString(), "before");
  assert.equal((await readAll(await client.get(`${key}.2`))).toString(), "after");
  await assert.rejects(client.get(`${key}.3`), ReplicaObjectNotFoundError);
});
