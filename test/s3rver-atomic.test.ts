// The tests' S3 server behaves as S3 does where the crash tests depend on it: an upload cut
// off by a dying client leaves no object (testkit/s3rver-atomic-put.ts), and a complete
// one reads back whole.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { startS3rver, type S3rverHandle } from "../testkit/s3rver.js";

let s3: S3rverHandle;
before(async () => {
  s3 = await startS3rver();
});
after(() => s3.dispose());

function objectUrl(key: string): string {
  return `${s3.endpoint}/${s3.bucket}/${key}`;
}

test("an upload cut off mid-body leaves no object; a whole one reads back", async () => {
  const { hostname, port } = new URL(s3.endpoint);
  const socket = net.connect(Number(port), hostname);
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(`PUT /${s3.bucket}/cut-off HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Length: 100000\r\n\r\n`);
  socket.write(Buffer.alloc(30_000, "x"));
  await sleep(300); // s3rver has the first part of the body by now
  socket.destroy();
  await sleep(300);
  assert.equal((await fetch(objectUrl("cut-off"))).status, 404, "no object from an upload that never finished");
  const listing = await (await fetch(`${s3.endpoint}/${s3.bucket}?list-type=2`)).text();
  assert.doesNotMatch(listing, /cut-off/);

  const whole = Buffer.alloc(100_000, "y");
  assert.equal((await fetch(objectUrl("whole"), { method: "PUT", body: whole })).status, 200);
  const read = Buffer.from(await (await fetch(objectUrl("whole"))).arrayBuffer());
  assert.ok(read.equals(whole));
});
