// The SFTP client against Debian's OpenSSH sshd: the shared contract, Litestream's URL form,
// host-key pinning, atomic create-if-absent and the lease on it, and an outage.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { openReplicaClient } from "../url.js";
import { parseSftpUrl, SftpReplicaClient } from "./client.js";
import type { ConditionalReplicaClient } from "../client.js";
import { listAll, readAll, testReplicaClientContract } from "../contract.js";
import { LEASE_KEY, probeConditionalWrites, WriterConflictError } from "../../writer/lease.js";
import { startSshd, type SshdHandle } from "../../../testkit/sshd.js";
import { lease, raceCreates } from "../../../testkit/lease-scenarios.js";
import { freePort } from "../../../testkit/ports.js";

let sshd: SshdHandle;
let counter = 0;
const clients: SftpReplicaClient[] = [];

before(async () => {
  sshd = await startSshd();
});
after(async () => {
  for (const client of clients) await client.close();
  await sshd.dispose();
});

function open(url: string, onRequest?: (operation: string) => void): SftpReplicaClient {
  const client = openReplicaClient(url, {}, { onRequest }) as SftpReplicaClient;
  clients.push(client);
  return client;
}
const newClient = (): SftpReplicaClient => open(sshd.url(`replica-${++counter}`));

testReplicaClientContract("SFTP", async () => newClient());

test("sftp URLs: Litestream's USER[:PASSWORD]@HOST[:PORT]/PATH, the path absolute on the server; key-path and host-key", () => {
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAnK0+GdwOelXlAXdqLx/qvS7WHMr3rH7zW2+0DtmK5r";
  const parsed = parseSftpUrl(`sftp://backup:p%40ss@files.example.com:2222/srv/litepaste/?key-path=/keys/id&host-key=${encodeURIComponent(key)}`, "d");
  assert.equal(parsed.host, "files.example.com");
  assert.equal(parsed.port, 2222);
  assert.equal(parsed.user, "backup");
  assert.equal(parsed.password, "p@ss");
  assert.equal(parsed.keyPath, "/keys/id");
  assert.equal(parsed.root, "/srv/litepaste");
  assert.equal(parsed.hostKey?.type, "ssh-ed25519");
  assert.deepEqual(parsed.hostKey?.blob, Buffer.from(key.split(" ")[1]!, "base64"));
  // An unencoded "+" in the query arrives as a space: still the same key.
  assert.deepEqual(parseSftpUrl(`sftp://u:p@h/x?host-key=${key.replace(/ /g, "%20")}`, "d").hostKey?.blob, parsed.hostKey?.blob);
  const defaults = parseSftpUrl("sftp://u:p@h", "d");
  assert.equal(defaults.port, 22);
  assert.equal(defaults.root, "", "no path: the login directory");
  assert.equal(defaults.keyPath, undefined);
});

test("sftp URLs: what is missing is named, and the password is never echoed", () => {
  assert.throws(() => openReplicaClient("sftp://host/p?key-path=/k", {}), /the user is missing/);
  assert.throws(() => openReplicaClient("sftp://u@host/p", {}), /no way to log in/);
  assert.throws(() => openReplicaClient("sftp://u:pw@host/p?keypath=/k", {}), /unknown parameter "keypath"/);
  assert.throws(() => openReplicaClient("sftp://u:pw@host/p?host-key=garbage", {}), /host-key must be "TYPE BASE64"/);
  assert.throws(() => openReplicaClient("sftp://u@host/p?key-path=/no/such/key", {}), /cannot read the SFTP private key \/no\/such\/key/);
  const client = openReplicaClient("sftp://backup:hunter2secret@host:2222/srv/db", {});
  // The user names the target and stays; the password never is printed.
  assert.equal(client.description, "sftp://backup@host:2222/srv/db");
  assert.doesNotMatch(client.description, /hunter2secret/);
});

test("SFTP client: objects are files under the URL's path; no temporary file is left or listed", async () => {
  const client = newClient();
  await client.put("generations/0000000000000001/snapshots/00000000.snapshot.lz4", Buffer.from("abc"));
  const dir = path.join(sshd.root, `replica-${counter}`);
  assert.equal(fs.readFileSync(path.join(dir, "generations/0000000000000001/snapshots/00000000.snapshot.lz4"), "utf8"), "abc");
  assert.deepEqual(fs.readdirSync(path.join(dir, "generations/0000000000000001/snapshots")), ["00000000.snapshot.lz4"]);
  fs.writeFileSync(path.join(dir, "generations/0000000000000001/snapshots/.00000001.snapshot.lz4.tmp-123456789abc"), "half");
  assert.deepEqual((await listAll(client, "")).map((o) => o.key), ["generations/0000000000000001/snapshots/00000000.snapshot.lz4"]);
  await client.delete(["generations/0000000000000001/snapshots/00000000.snapshot.lz4", "generations/0000000000000001/snapshots/.00000001.snapshot.lz4.tmp-123456789abc"]);
  assert.deepEqual(fs.readdirSync(dir), [], "emptied directories go, the root stays");
});

test("SFTP client: a pinned host key is checked; a wrong one refuses to connect", async () => {
  const pinned = open(`${sshd.url(`replica-${++counter}`)}&host-key=${encodeURIComponent(sshd.hostKey)}`);
  await pinned.put("x", Buffer.from("x"));
  assert.equal((await readAll(await pinned.get("x"))).toString(), "x");
  const otherKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAnK0+GdwOelXlAXdqLx/qvS7WHMr3rH7zW2+0DtmK5r";
  const wrong = open(`${sshd.url("replica-wrong")}&host-key=${encodeURIComponent(otherKey)}`);
  await assert.rejects(listAll(wrong, ""), new RegExp(`SFTP server 127.0.0.1:${sshd.port} did not present the host-key`));
});

test("SFTP client: a refused login and an unreachable server are told apart", async () => {
  const otherKey = path.join(path.dirname(sshd.keyPath), "other_key");
  fs.copyFileSync(path.join(path.dirname(sshd.keyPath), "host_key"), otherKey); // a valid key, but not an authorized one
  const refused = open(`sftp://${sshd.user}@127.0.0.1:${sshd.port}${sshd.root}/x?key-path=${encodeURIComponent(otherKey)}`);
  await assert.rejects(listAll(refused, ""), new RegExp(`SFTP server 127.0.0.1:${sshd.port} rejected the login of user "${sshd.user}"`));
  const port = await freePort();
  const unreachable = open(`sftp://${sshd.user}@127.0.0.1:${port}/x?key-path=${encodeURIComponent(sshd.keyPath)}`);
  await assert.rejects(listAll(unreachable, ""), new RegExp(`cannot reach the SFTP server 127.0.0.1:${port} \\(ECONNREFUSED`));
});

test("SFTP client: reconnects after the server restarts (an outage ends)", async () => {
  const operations: string[] = [];
  const client = open(sshd.url(`replica-${++counter}`), (op) => operations.push(op));
  await client.put("generations/0000000000000001/wal/00000000_00000000.wal.lz4", Buffer.from("before"));
  await sshd.stop(); // the listener and the open session: the connection breaks
  await assert.rejects(client.put("generations/0000000000000001/wal/00000000_00000020.wal.lz4", Buffer.from("during")), /cannot reach the SFTP server/);
  await sshd.restart();
  await client.put("generations/0000000000000001/wal/00000000_00000020.wal.lz4", Buffer.from("after"));
  assert.deepEqual((await listAll(client, "")).map((o) => o.size), [6, 5]);
  assert.deepEqual(operations, ["PutObject", "PutObject", "PutObject", "ListObjectsV2"]);
});

test("SFTP conditional writes: of concurrent creates exactly one wins (rename without overwrite); swaps run under an exclusive lock file; the probe finds them real", async () => {
  const client = newClient();
  const { stored } = await raceCreates(client);

  const swaps = await Promise.all(Array.from({ length: 8 }, (_, i) => client.putIfMatch(LEASE_KEY, Buffer.from(`v2 by ${i}`), stored!.etag)));
  const swapWinners = swaps.flatMap((etag, i) => (etag === null ? [] : [i]));
  assert.equal(swapWinners.length, 1);
  assert.equal((await client.getVersioned(LEASE_KEY))?.body.toString(), `v2 by ${swapWinners[0]}`);
  assert.equal(await client.putIfMatch("missing.json", Buffer.from("x"), stored!.etag), null);

  assert.equal(await probeConditionalWrites(client), true);
  assert.deepEqual(fs.readdirSync(path.join(sshd.root, `replica-${counter}`)), [LEASE_KEY], "no lock, probe or temporary file left");
});

test("lease on SFTP: an idle holder loses it to a newcomer after the TTL, and its renewal then conflicts", async () => {
  const client: ConditionalReplicaClient = newClient();
  const a = lease(client, "000000000000000a", 500);
  await a.acquire("aaaaaaaaaaaaaaaa");
  const b = lease(client, "000000000000000b", 500);
  await b.acquire("bbbbbbbbbbbbbbbb");
  assert.match((await client.getVersioned(LEASE_KEY))!.body.toString(), /bbbbbbbbbbbbbbbb/);
  await assert.rejects(a.renewIfDue("aaaaaaaaaaaaaaaa"), (err: unknown) => err instanceof WriterConflictError && err.other.generation === "bbbbbbbbbbbbbbbb");
});
