// Issue 12, M6: the per-client upload limit holds behind a proxy, against a real server
// process started as `LP_BEHIND_PROXY=1 litepaste -perminutelimit 5`. Each test spends a
// budget of its own address block, so one server serves them all.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { failCli, serveCli, type ServedProcess } from "../testkit/litepaste-process.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { until } from "../testkit/wait.js";

const LIMIT = 5;
const newDir = useScratchDirs("litepaste-rate-limit");

async function put(server: ServedProcess, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${server.url}/`, { method: "PUT", body: "a log line", headers });
  await res.arrayBuffer();
  return res.status;
}

/** The statuses of uploads sent one after another, each with its own headers. */
async function statuses(server: ServedProcess, requests: Record<string, string>[]): Promise<number[]> {
  const out: number[] = [];
  for (const headers of requests) out.push(await put(server, headers));
  return out;
}

const FIVE_OK_THEN_LIMITED = [200, 200, 200, 200, 200, 429, 429];

function start(env: NodeJS.ProcessEnv = {}): Promise<ServedProcess> {
  return serveCli({ DB_PATH: path.join(newDir("data"), "store.db"), LP_BEHIND_PROXY: "1", ...env }, { args: ["-perminutelimit", String(LIMIT)] });
}

describe("LP_BEHIND_PROXY=1 -perminutelimit 5 (one trusted proxy, the default)", () => {
  let server: ServedProcess;
  before(async () => {
    server = await start();
  });
  after(async () => {
    assert.equal(await server.stop(), 0, server.output().slice(-4000));
  });

  test("rotating X-Forwarded-For: 2001:db8::$i is one /64: limited after 5", async () => {
    const requests = Array.from({ length: 7 }, (_, i) => ({ "X-Forwarded-For": `2001:db8::${i + 1}` }));
    assert.deepEqual(await statuses(server, requests), FIVE_OK_THEN_LIMITED);
    // Another /64 has a budget of its own.
    assert.equal(await put(server, { "X-Forwarded-For": "2001:db8:0:1::1" }), 200);
  });

  test("the 7 spellings of one IPv6 address share one budget", async () => {
    const spellings = ["2001:db8:77::77", "2001:DB8:77::77", "2001:0db8:0077::0077", "2001:db8:77:0:0:0:0:77", "2001:0db8:0077:0000:0000:0000:0000:0077", "[2001:db8:77::77]", "[2001:db8:77::77]:443"];
    assert.deepEqual(await statuses(server, spellings.map((s) => ({ "X-Forwarded-For": s }))), FIVE_OK_THEN_LIMITED);
  });

  test("::ffff:4.3.2.1 is 4.3.2.1", async () => {
    const requests = Array.from({ length: 7 }, (_, i) => ({ "X-Forwarded-For": i % 2 === 0 ? "::ffff:4.3.2.1" : "4.3.2.1" }));
    assert.deepEqual(await statuses(server, requests), FIVE_OK_THEN_LIMITED);
  });

  test("headers the proxy left alone buy no budgets: X-Real-IP vs X-Forwarded-For, for=unknown appended", async () => {
    // The proxy sets only X-Real-IP, or appends `for=unknown` to Forwarded; the client rotates
    // its own X-Forwarded-For. Every one of these is keyed by the peer (the proxy): one budget.
    const requests = Array.from({ length: 7 }, (_, i): Record<string, string> =>
      i % 2 === 0
        ? { "X-Real-IP": "198.51.100.20", "X-Forwarded-For": `203.0.113.${i + 1}` }
        : { Forwarded: `for=203.0.113.${i + 1}, for=unknown`, "X-Forwarded-For": `203.0.113.${i + 1}` },
    );
    assert.deepEqual(await statuses(server, requests), FIVE_OK_THEN_LIMITED);
    // Alone, X-Real-IP names the client: a budget of its own.
    assert.equal(await put(server, { "X-Real-IP": "198.51.100.20" }), 200);
  });

  test("a forged left-most X-Forwarded-For entry does not help; the right-most one is the client", async () => {
    const requests = Array.from({ length: 7 }, (_, i) => ({ "X-Forwarded-For": `192.0.2.${100 + i}, 198.51.100.30` }));
    assert.deepEqual(await statuses(server, requests), FIVE_OK_THEN_LIMITED);
    // The request line is written after its answer is sent (and the log is asynchronous).
    const log = await until("the request lines in the log", () => server.output().split("\n").filter((l) => l.includes('"msg":"request"')).length >= 7 && server.output());
    assert.ok(log.includes('"ip":"198.51.100.30"'), "the log names the client the limit counted");
    assert.ok(!log.includes("192.0.2.100"), "and never the client's own entries");
  });
});

describe("LP_TRUSTED_PROXIES=2", () => {
  test("the client is the second entry from the right; entries left of it are the client's", async () => {
    const server = await start({ LP_TRUSTED_PROXIES: "2" });
    try {
      const requests = Array.from({ length: 7 }, (_, i) => ({ "X-Forwarded-For": `192.0.2.${i + 1}, 198.51.100.40, 10.9.9.${i + 1}` }));
      assert.deepEqual(await statuses(server, requests), FIVE_OK_THEN_LIMITED);
      // An unparseable entry in the client's slot: the peer's budget, not the entry left of it.
      const garbage = Array.from({ length: 7 }, (_, i) => ({ "X-Forwarded-For": `192.0.2.${i + 1}, unknown, 10.9.9.1` }));
      assert.deepEqual(await statuses(server, garbage), FIVE_OK_THEN_LIMITED);
    } finally {
      assert.equal(await server.stop(), 0, server.output().slice(-4000));
    }
  });

  test("a bad LP_TRUSTED_PROXIES stops start-up with the accepted values", async () => {
    const failed = await failCli({ LP_BEHIND_PROXY: "1", LP_TRUSTED_PROXIES: "0", DB_PATH: path.join(newDir("bad"), "store.db") });
    assert.notEqual(failed.code, 0);
    assert.match(failed.output, /invalid value "0" for LP_TRUSTED_PROXIES: expected a whole number from 1 to 20/);
  });
});
