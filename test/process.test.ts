// The `litepaste` command as a user runs it: --help, configuration errors, serving with
// JSON request logs, and a graceful SIGTERM that finishes in-flight uploads.

import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import path from "node:path";
import Database from "better-sqlite3";
import { failCli, runCli as run, serveCli as serve } from "../testkit/litepaste-process.js";
import { testDir } from "../testkit/scratch.js";

test("--help lists the commands, every flag and variable, with defaults", () => {
  const res = run(["--help"]);
  assert.equal(res.status, 0);
  for (const name of ["-title", "-showdocs", "-perminutelimit", "-maxsize", "PORT", "LP_BEHIND_PROXY", "DB_REPLICA_URL", "restore", "snapshots"]) {
    assert.ok(res.stdout.includes(name), name);
  }
  assert.match(res.stdout, /default "3001"/);
});

test("a bad value exits non-zero with a message naming the flag and the accepted values", () => {
  const flag = run(["-perminutelimit", "ten"]);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /invalid value "ten" for -perminutelimit: expected a whole number, 0 or more/);
  // (Issue 13: SITE_SHOW_DOCUMENTATION is no longer refused — anything but "false" is true, as in LogPaste.)
  const env = run([], { PER_MINUTE_LIMIT: "perhaps" });
  assert.equal(env.status, 2);
  assert.match(env.stderr, /invalid value "perhaps" for PER_MINUTE_LIMIT: expected a whole number/);
});

test("serves with flags from the command line, logs one JSON line per request without the contents, stops cleanly on SIGTERM", async (t) => {
  const dbPath = path.join(testDir(t, "litepaste-process"), "nested", "data", "store.db");
  const server = await serve({ DB_PATH: dbPath }, { args: ["-title", 'Team "Ops" logs', "-showdocs=false"] });
  const secret = "paste-contents-that-must-not-be-logged";
  const put = await fetch(`${server.url}/`, { method: "PUT", body: secret });
  const { id } = (await put.json()) as { id: string };
  assert.equal(await (await fetch(`${server.url}/${id}`)).text(), secret);
  const home = await (await fetch(`${server.url}/`)).text();
  assert.ok(home.includes("<title>Team &#34;Ops&#34; logs</title>"));
  assert.ok(!home.includes('id="curl-cmd"'));

  // An upload still in flight when SIGTERM arrives is finished, then the process exits 0.
  const slow = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(`${server.url}/`, { method: "PUT", headers: { "Content-Length": "10" } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.write("12345");
    setTimeout(() => {
      server.child.kill("SIGTERM");
      setTimeout(() => req.end("67890"), 300);
    }, 200);
  });
  const finished = await slow;
  assert.equal(finished.status, 200, finished.body);
  assert.equal(await server.exited, 0);

  const lines = server.output().trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  // The launcher's readiness probe (GET /healthz) is a request too; the test's own follow it.
  const requests = lines.filter((l) => l.msg === "request" && l.url !== "/healthz");
  assert.equal(requests.length, 4, "one line per request");
  assert.deepEqual(requests.map((r) => [r.method, r.status]), [["PUT", 200], ["GET", 200], ["GET", 200], ["PUT", 200]]);
  assert.ok(!server.output().includes(secret), "paste contents never reach the log");
  assert.ok(!server.output().includes("1234567890"));

  // The database was closed cleanly: no WAL left behind, both pastes inside.
  const db = new Database(dbPath, { readonly: true });
  assert.equal(db.prepare("SELECT count(*) FROM entries").pluck().get(), 2);
  db.close();
});

test("the asynchronous log loses no line: every request of a burst and the shutdown's last line are written by exit; a fatal start-up error too", async (t) => {
  const dir = testDir(t, "litepaste-log-flush");
  const server = await serve({ DB_PATH: path.join(dir, "store.db") });
  const { id } = (await (await fetch(`${server.url}/`, { method: "PUT", body: "flush me" })).json()) as { id: string };
  const burst = 400;
  // Bounded concurrency: 20 requests in flight at a time, as many lines queued as the buffer takes.
  for (let i = 0; i < burst; i += 20) {
    await Promise.all(Array.from({ length: 20 }, async () => assert.equal((await fetch(`${server.url}/${id}`)).status, 200)));
  }
  // SIGTERM the moment the last answer is in: the lines of the burst may still be buffered.
  assert.equal(await server.stop(), 0);
  const lines = server.output().trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.filter((l) => l.msg === "request" && l.url === `/${id}`).length, burst);
  assert.equal(lines.at(-1)!.msg, "litepaste stopped", "the very last line, written just before exit");

  // A start-up failure logs at fatal and exits 1 right after: the line is there.
  const failed = await failCli({ DB_PATH: dir }); // a directory is not a database
  assert.equal(failed.code, 1);
  const fatal = failed.output.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>).at(-1)!;
  assert.equal(fatal.level, 60);
  assert.match(String(fatal.msg), /^litepaste could not start/);
});
