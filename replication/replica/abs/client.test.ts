// The Azure Blob client against Azurite: the shared contract, Litestream's URL form, real
// conditional writes and the replica lease on them (a takeover and a conflict).

import { test } from "node:test";
import assert from "node:assert/strict";
import { openReplicaClient } from "../url.js";
import { AbsReplicaClient, parseAbsUrl } from "./client.js";
import type { ConditionalReplicaClient } from "../client.js";
import { listAll, testReplicaClientContract } from "../contract.js";
import { LEASE_KEY, probeConditionalWrites, WriterConflictError } from "../../writer/lease.js";
import { startAzurite } from "../../../testkit/azurite.js";
import { useFileServer } from "../../../testkit/file-server.js";
import { lease, leaseHolder, raceCreates, whileRenewing } from "../../../testkit/lease-scenarios.js";
import { freePort } from "../../../testkit/ports.js";

const azurite = useFileServer(startAzurite);
let counter = 0;

const newClient = (): ConditionalReplicaClient => openReplicaClient(azurite.url(`replica-${++counter}`), azurite.env);

testReplicaClientContract("Azure Blob", async () => newClient());

test("abs URLs: Litestream's ACCOUNT@CONTAINER/PATH, Azure's endpoint by default, ?endpoint= for others", () => {
  assert.deepEqual(parseAbsUrl("abs://myaccount@mycontainer/litepaste/db", "d"), {
    accountName: "myaccount", container: "mycontainer", prefix: "litepaste/db/", endpoint: "https://myaccount.blob.core.windows.net",
  });
  assert.deepEqual(parseAbsUrl("abs://acct@c?endpoint=http://127.0.0.1:10000/acct/", "d"), {
    accountName: "acct", container: "c", prefix: "", endpoint: "http://127.0.0.1:10000/acct",
  });
  const env = { LITESTREAM_AZURE_ACCOUNT_KEY: azurite.env.LITESTREAM_AZURE_ACCOUNT_KEY };
  const client = openReplicaClient("abs://acct@c/p", env);
  assert.ok(client instanceof AbsReplicaClient);
  // The account names the target and is no secret: it stays; the key never is in the URL.
  assert.equal(client.description, "abs://acct@c/p");
});

test("abs URLs: what is missing or misplaced is named, and the key is never echoed", () => {
  const env = { LITESTREAM_AZURE_ACCOUNT_KEY: "c2VjcmV0" };
  assert.throws(() => openReplicaClient("abs://container/p", env), /storage account is missing/);
  assert.throws(() => openReplicaClient("abs://acct@/p", env), /container is missing|not a valid URL/);
  assert.throws(() => openReplicaClient("abs://acct@c/p?sas=x", env), /unknown parameter "sas"/);
  assert.throws(() => openReplicaClient("abs://acct@c/p?endpoint=ftp://x", env), /http:\/\/ or https:\/\//);
  assert.throws(() => openReplicaClient("abs://acct@c/p", {}), /LITESTREAM_AZURE_ACCOUNT_KEY is not set/);
  assert.throws(() => openReplicaClient("abs://acct@c/p", { LITESTREAM_AZURE_ACCOUNT_KEY: "not base64!" }), /not base64/);
  assert.throws(() => openReplicaClient("abs://acct:topsecretkey@c/p", env), (err: Error) => {
    assert.match(err.message, /does not belong in the URL: set LITESTREAM_AZURE_ACCOUNT_KEY/);
    assert.ok(!err.message.includes("topsecretkey"));
    return true;
  });
});

test("Azure Blob client: listing pages through more than one page", async () => {
  const client = newClient();
  const keys = Array.from({ length: 23 }, (_, i) => `generations/0000000000000001/wal/00000000_${i.toString(16).padStart(8, "0")}.wal.lz4`);
  await Promise.all(keys.map((key) => client.put(key, Buffer.from("x"))));
  const operations: string[] = [];
  const location = parseAbsUrl(azurite.url(`replica-${counter}`), "test");
  // Pages of 10 (production asks for 5000): the same paging, without 5000 blobs to write.
  const paging = new AbsReplicaClient(location, azurite.env.LITESTREAM_AZURE_ACCOUNT_KEY!, {
    description: "test", onRequest: (op) => operations.push(op), listPageSize: 10,
  });
  assert.deepEqual((await listAll(paging, "generations/")).map((o) => o.key), [...keys].sort());
  assert.deepEqual(operations, ["ListObjectsV2", "ListObjectsV2", "ListObjectsV2"], "three pages of 10");
  await client.delete(keys);
  assert.deepEqual(await listAll(client, ""), []);
});

test("Azure Blob client: a missing container, a wrong key and an unreachable endpoint are told apart, without the key", async () => {
  const missing = openReplicaClient(`abs://${azurite.account}@no-such-container/db?endpoint=${azurite.endpoint}`, azurite.env);
  await assert.rejects(listAll(missing, ""), /Azure container "no-such-container" does not exist/);
  const wrongKey = Buffer.from("a wrong key, base64 encoded for Azure").toString("base64");
  const rejected = openReplicaClient(azurite.url("db"), { LITESTREAM_AZURE_ACCOUNT_KEY: wrongKey });
  await assert.rejects(rejected.put("x", Buffer.from("x")), (err: Error) => {
    assert.match(err.message, /Azure rejected the credentials .* check LITESTREAM_AZURE_ACCOUNT_KEY/);
    assert.ok(!err.message.includes(wrongKey));
    return true;
  });
  const endpoint = `http://127.0.0.1:${await freePort()}/${azurite.account}`;
  const unreachable = openReplicaClient(`abs://${azurite.account}@c/db?endpoint=${endpoint}`, azurite.env);
  await assert.rejects(listAll(unreachable, ""), new RegExp(`cannot reach the Azure Blob endpoint ${endpoint} \\(ECONNREFUSED`));
});

test("Azure Blob client: works again after the server restarts (an outage ends)", async () => {
  const client = newClient();
  await client.put("generations/0000000000000001/wal/00000000_00000000.wal.lz4", Buffer.from("before"));
  await azurite.stop();
  await assert.rejects(client.put("generations/0000000000000001/wal/00000000_00000020.wal.lz4", Buffer.from("during")), /cannot reach the Azure Blob endpoint/);
  await azurite.restart();
  await client.put("generations/0000000000000001/wal/00000000_00000020.wal.lz4", Buffer.from("after"));
  assert.deepEqual((await listAll(client, "")).map((o) => o.size), [6, 5]);
});

test("Azure Blob conditional writes: of concurrent creates exactly one wins; a stale swap fails; the probe finds them real", async () => {
  const client = newClient();
  const { results, winners, stored } = await raceCreates(client);
  assert.equal(stored?.etag, results[winners[0]!]);

  const swapped = await client.putIfMatch(LEASE_KEY, Buffer.from("v2"), stored!.etag);
  assert.ok(swapped && swapped !== stored!.etag);
  assert.equal(await client.putIfMatch(LEASE_KEY, Buffer.from("stale"), stored!.etag), null);
  assert.equal((await client.getVersioned(LEASE_KEY))?.body.toString(), "v2");
  assert.equal(await client.putIfMatch("missing.json", Buffer.from("x"), swapped), null, "a swap needs the object");
  const swaps = await Promise.all(Array.from({ length: 8 }, (_, i) => client.putIfMatch(LEASE_KEY, Buffer.from(`v3 by ${i}`), swapped)));
  assert.equal(swaps.filter((etag) => etag !== null).length, 1);

  assert.equal(await probeConditionalWrites(client), true);
  assert.deepEqual((await listAll(client, "")).map((o) => o.key), [LEASE_KEY], "no probe object left");
});

test("lease on Azure Blob: a renewing holder keeps it (conflict for the newcomer); once idle past the TTL it is taken over, and the old holder's renewal conflicts", async () => {
  const client = newClient();
  const a = lease(client, "000000000000000a", 600);
  await a.acquire("aaaaaaaaaaaaaaaa");
  assert.equal((await leaseHolder(client)).owner, "000000000000000a");

  const b = lease(client, "000000000000000b", 600);
  await whileRenewing(a, "aaaaaaaaaaaaaaaa", () => assert.rejects(b.acquire("bbbbbbbbbbbbbbbb"), (err: unknown) => {
    assert.ok(err instanceof WriterConflictError);
    assert.equal(err.other.generation, "aaaaaaaaaaaaaaaa");
    return true;
  }));

  await b.acquire("bbbbbbbbbbbbbbbb"); // A idle: B waits the lease out and takes it
  const taken = await leaseHolder(client);
  assert.equal(taken.owner, "000000000000000b");
  assert.equal(taken.generation, "bbbbbbbbbbbbbbbb");
  await assert.rejects(a.renewIfDue("aaaaaaaaaaaaaaaa"), (err: unknown) => err instanceof WriterConflictError && err.other.generation === "bbbbbbbbbbbbbbbb");
  await b.release();
  const c = lease(client, "000000000000000c", 60_000);
  const startedAt = Date.now();
  await c.acquire("cccccccccccccccc");
  assert.ok(Date.now() - startedAt < 30_000, "a released lease is free at once");
  assert.equal((await leaseHolder(client)).owner, "000000000000000c");
});
