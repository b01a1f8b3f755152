// /metrics as Prometheus scrapes it: HTTP and paste counters on a real app, replication's
// series on the real `litepaste` process against a directory replica (compared with what
// the directory holds) and against s3rver through an outage, and METRICS_ADDR.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startTestApp } from "../testkit/app-server.js";
import { failCli, serveCli, type ServedProcess } from "../testkit/litepaste-process.js";
import { freePort } from "../testkit/ports.js";
import { scrape, type Scrape } from "../testkit/prometheus.js";
import { replicaKeys } from "../testkit/replication-session.js";
import { startS3rver, type S3rverHandle } from "../testkit/s3rver.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { HANG_TIMEOUT_MS } from "../testkit/wait.js";

const newDir = useScratchDirs("litepaste-metrics");

async function put(url: string, body: string | Buffer): Promise<Response> {
  return fetch(`${url}/`, { method: "PUT", body });
}

/** Polls `check` (which throws while its condition does not hold) until it passes; on a hang, throws its last error. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = HANG_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

/** Every server test scrapes with this and checks no credential leaked into the answer. */
async function scrapeServer(metricsUrl: string, secrets: readonly string[] = []): Promise<Scrape> {
  const metrics = await scrape(metricsUrl);
  for (const secret of secrets) assert.ok(!metrics.text.includes(secret), "a credential reached /metrics");
  return metrics;
}

test("HTTP requests by route pattern and status, latency, pastes and bytes stored: exact deltas", async (t) => {
  const app = await startTestApp();
  t.after(() => app.close());
  const metricsUrl = `${app.url}/metrics`;
  const before = await scrapeServer(metricsUrl);

  const bodies = ["one\n", "two, a little longer\n", Buffer.alloc(70_000, "x")];
  const ids: string[] = [];
  for (const body of bodies) ids.push(((await (await put(app.url, body)).json()) as { id: string }).id);
  const form = new FormData();
  form.append("_", "from a form");
  assert.equal((await fetch(`${app.url}/`, { method: "POST", body: form })).status, 200);
  assert.equal((await fetch(`${app.url}/${ids[0]}`)).status, 200);
  assert.equal((await fetch(`${app.url}/${ids[1]}/raw.txt`)).status, 200);
  assert.equal((await fetch(`${app.url}/nosuchid`)).status, 404);
  assert.equal((await put(app.url, "  \n")).status, 400);
  assert.equal((await fetch(`${app.url}/static/js/logpaste.js`)).status, 200);
  assert.equal((await fetch(`${app.url}/`, { method: "DELETE" })).status, 405);
  await sleep(50); // the last request's counters are updated once its answer is sent

  const after = await scrapeServer(metricsUrl);
  const delta = (name: string, labels?: Record<string, string>) => after.value(name, labels) - before.value(name, labels);
  const storedBytes = bodies.reduce((sum, b) => sum + Buffer.byteLength(b), 0) + Buffer.byteLength("from a form");
  assert.equal(delta("litepaste_pastes_stored_total"), 4);
  assert.equal(delta("litepaste_paste_bytes_stored_total"), storedBytes);
  const requests = (method: string, route: string, status: string) => delta("litepaste_http_requests_total", { method, route, status });
  assert.equal(requests("PUT", "/*", "200"), 3);
  assert.equal(requests("PUT", "/*", "400"), 1);
  assert.equal(requests("POST", "/*", "200"), 1);
  assert.equal(requests("GET", "/:id", "200"), 1);
  assert.equal(requests("GET", "/:id/*", "200"), 1);
  assert.equal(requests("GET", "/:id", "404"), 1);
  assert.equal(requests("GET", "/static/*", "200"), 1);
  assert.equal(requests("DELETE", "unmatched", "405"), 1);
  assert.equal(requests("GET", "/metrics", "200"), 1, "the first scrape");
  assert.equal(delta("litepaste_http_request_duration_seconds_count", { method: "PUT", route: "/*" }), 4);
  assert.ok(delta("litepaste_http_request_duration_seconds_sum", { method: "PUT", route: "/*" }) > 0);
  assert.equal(delta("litepaste_http_request_duration_seconds_bucket", { method: "PUT", route: "/*", le: "+Inf" }), 4);
  // Paste ids never become label values: one series per id would grow without bound.
  for (const id of [...ids, "nosuchid"]) assert.ok(!after.text.includes(id), `${id} in /metrics`);

  assert.equal(after.types.get("litepaste_http_requests_total"), "counter");
  assert.equal(after.types.get("litepaste_http_request_duration_seconds"), "histogram");
  assert.ok(after.value("process_resident_memory_bytes") > 0);
  assert.equal(after.types.get("nodejs_eventloop_lag_seconds"), "gauge");
  // Without replication there are no replication series.
  assert.ok(!after.samples.some((s) => s.name.startsWith("litepaste_replication_")));
});

test("event-loop delay: a summary whose window since the last scrape shows a hold of the loop", async (t) => {
  // The app runs in this process, so holding this process's loop holds the server's.
  const app = await startTestApp();
  t.after(() => app.close());
  const metricsUrl = `${app.url}/metrics`;
  const name = "litepaste_event_loop_delay_seconds";
  const first = await scrapeServer(metricsUrl);
  assert.equal(first.types.get(name), "summary");
  await sleep(100);
  const holdMs = 80;
  const until = performance.now() + holdMs;
  while (performance.now() < until); // the hold: nothing else can run meanwhile
  await sleep(50); // the monitor's next firing records how late it came
  const after = await scrapeServer(metricsUrl);
  const q = (quantile: string) => after.value(name, { quantile });
  const quantiles = ["0.5", "0.9", "0.99", "1"].map(q);
  for (const v of quantiles) assert.ok(Number.isFinite(v) && v >= 0, `quantile ${v}`);
  assert.deepEqual([...quantiles].sort((a, b) => a - b), quantiles, "p50 ≤ p90 ≤ p99 ≤ max");
  // A firing due during the hold came at least the hold minus one 10 ms resolution late.
  assert.ok(q("1") >= (holdMs - 10) / 1000, `largest delay ${q("1")} s after an ${holdMs} ms hold`);
  assert.ok(after.value(`${name}_count`) > first.value(`${name}_count`), "firings counted since start");
  assert.ok(after.value(`${name}_sum`) - first.value(`${name}_sum`) >= (holdMs - 10) / 1000, "the hold is in the sum");
});

test("replication to a directory: syncs, shipped bytes, PUT requests and snapshots match the replica's objects; WAL size is -wal's", async (t) => {
  const dir = newDir("file-replica");
  const dbPath = path.join(dir, "store.db");
  const replicaDir = path.join(dir, "replica");
  // A lease that never needs renewing here: after start-up, every PUT is an object of the replica.
  const server = await serveCli({ DB_PATH: dbPath, DB_REPLICA_URL: `file://${replicaDir}`, DB_SYNC_MODE: "sync", DB_LEASE_TTL: "1h" });
  t.after(() => server.stop());
  const metricsUrl = `${server.url}/metrics`;
  const putsOf = (m: Scrape) => m.value("litepaste_object_store_requests_total", { operation: "PutObject" });
  // Start-up writes the lease (and probes conditional writes) besides the first snapshot.
  const startUp = await eventually(async () => {
    const m = await scrapeServer(metricsUrl);
    assert.ok(m.samples.some((sample) => sample.name === "litepaste_replication_generation_info"), "the first snapshot is up");
    assert.equal(m.value("litepaste_replication_lag_seconds"), 0, "the new database's schema is shipped");
    // A PUT is counted when it is sent and its object appears when it is done: take the
    // baseline only once neither has moved for a moment.
    const objects = replicaKeys(replicaDir).length;
    await sleep(300);
    assert.equal(putsOf(await scrapeServer(metricsUrl)), putsOf(m), "no upload in flight");
    assert.equal(replicaKeys(replicaDir).length, objects, "no upload in flight");
    return { puts: putsOf(m), objects };
  });

  // Sync mode: each answer comes once the paste is in the replica. About 4 MiB in all: past
  // the replicator's checkpoint threshold (1000 pages).
  for (let i = 0; i < 5; i++) assert.equal((await put(server.url, Buffer.alloc(900_000, `paste ${i} `))).status, 200);

  const fileSize = (key: string) => fs.statSync(path.join(replicaDir, key)).size;
  // A snapshot may still be uploading (the WAL shipped outgrew the database): wait until the
  // counters and the directory agree, then check them all on one scrape.
  const metrics = await eventually(async () => {
    const m = await scrapeServer(metricsUrl);
    const keys = replicaKeys(replicaDir);
    assert.equal(m.value("litepaste_snapshots_total"), keys.filter((k) => k.kind === "snapshot").length);
    assert.equal(putsOf(m) - startUp.puts, keys.length - startUp.objects, "one PUT per object written");
    return m;
  });
  const keys = replicaKeys(replicaDir);
  const segments = keys.filter((k) => k.kind === "wal");
  assert.equal(metrics.value("litepaste_replication_syncs_total"), segments.length);
  assert.equal(metrics.value("litepaste_replication_shipped_bytes_total"), segments.reduce((sum, k) => sum + fileSize(k.key), 0));
  assert.ok(metrics.value("litepaste_replication_shipped_wal_bytes_total") > 5 * 900_000);
  assert.ok(metrics.value("litepaste_snapshots_total") >= 1);
  assert.ok(metrics.value("litepaste_snapshot_seconds_total") > 0);
  assert.ok(metrics.value("litepaste_object_store_requests_total", { operation: "ListObjectsV2" }) >= 1);
  assert.equal(metrics.value("litepaste_replication_sync_errors_total"), 0);
  assert.ok(metrics.value("litepaste_checkpoints_total", { mode: "passive" }) >= 1);
  assert.equal(metrics.value("litepaste_checkpoints_total", { mode: "truncate" }), 0, "the WAL stays far below the truncation size");
  assert.equal(metrics.value("litepaste_replication_lag_seconds"), 0);
  assert.equal(metrics.value("litepaste_replication_healthy"), 1);
  assert.equal(metrics.value("litepaste_replication_generation_info", { generation: keys[0]!.generation }), 1);
  assert.equal(metrics.value("litepaste_wal_bytes"), fs.statSync(`${dbPath}-wal`).size);
  assert.equal(metrics.types.get("litepaste_replication_syncs_total"), "counter");
  assert.equal(metrics.types.get("litepaste_wal_bytes"), "gauge");

  // One more paste, one more segment: the counter follows what is uploaded, nothing else.
  assert.equal((await put(server.url, "one more")).status, 200);
  const next = await scrapeServer(metricsUrl);
  assert.equal(next.value("litepaste_replication_syncs_total"), metrics.value("litepaste_replication_syncs_total") + 1);
  assert.equal(next.value("litepaste_wal_bytes"), fs.statSync(`${dbPath}-wal`).size);
  assert.equal(await server.stop(), 0, server.output());
});

test("METRICS_ADDR: metrics on their own port only; the main port treats /metrics as a paste id; the port closes on shutdown", async () => {
  const dir = newDir("metrics-addr");
  const metricsPort = await freePort();
  const server = await serveCli({ DB_PATH: path.join(dir, "store.db"), METRICS_ADDR: `127.0.0.1:${metricsPort}` });
  try {
    assert.equal((await put(server.url, "counted")).status, 200);
    const separate = await scrapeServer(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(separate.value("litepaste_pastes_stored_total"), 1);
    assert.equal(separate.value("litepaste_http_requests_total", { method: "PUT", route: "/*", status: "200" }), 1);
    const onMain = await fetch(`${server.url}/metrics`);
    assert.equal(onMain.status, 404);
    assert.equal(await onMain.text(), "entry not found\n");
    const strayOnMetrics = await fetch(`http://127.0.0.1:${metricsPort}/`);
    assert.equal(strayOnMetrics.status, 404);
    assert.equal(strayOnMetrics.headers.get("x-content-type-options"), "nosniff", "an error on the metrics port is plain text that is never sniffed");
    assert.match(server.output(), new RegExp(`"url":"http://127\\.0\\.0\\.1:${metricsPort}/metrics".*"msg":"metrics listening"`));
  } finally {
    assert.equal(await server.stop(), 0, server.output());
  }
  await assert.rejects(fetch(`http://127.0.0.1:${metricsPort}/metrics`), "the metrics port is closed");
});

test("an invalid METRICS_ADDR stops the start with exit code 2 and a message naming it", async () => {
  for (const value of ["9090", "localhost:99999", "127.0.0.1:port", "::1:9090"]) {
    const { code, output } = await failCli({ DB_PATH: path.join(newDir("bad-addr"), "store.db"), METRICS_ADDR: value });
    assert.equal(code, 2, value);
    assert.ok(output.includes(`invalid value "${value}" for METRICS_ADDR: expected host:port, [IPv6]:port or :port`), output);
  }
});

let s3: S3rverHandle;
before(async () => {
  s3 = await startS3rver();
});
after(async () => {
  await s3.dispose();
});

async function lagSeconds(server: ServedProcess): Promise<number> {
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { replication: { lagSeconds: number } };
  return health.replication.lagSeconds;
}

test("an S3 outage: lag and sync errors rise while writes go on; once S3 is back, syncs resume and the lag returns to ~0", async (t) => {
  const secrets = [s3.env.LITESTREAM_SECRET_ACCESS_KEY!];
  const server = await serveCli({
    ...s3.env,
    DB_PATH: path.join(newDir("outage"), "store.db"),
    DB_REPLICA_URL: s3.url("outage"),
    DB_SYNC_INTERVAL: "100ms",
  });
  t.after(() => server.stop());
  const metricsUrl = `${server.url}/metrics`;
  assert.equal((await put(server.url, "before the outage")).status, 200);
  const shipped = await eventually(async () => {
    const m = await scrapeServer(metricsUrl, secrets);
    assert.ok(m.value("litepaste_replication_syncs_total") >= 1);
    assert.equal(m.value("litepaste_replication_lag_seconds"), 0);
    return m;
  });

  await s3.stop();
  let outage = shipped;
  try {
    // Async mode: uploads keep succeeding locally while nothing reaches the replica, and the
    // lag only grows (an upload attempt in flight does not make it look shipped).
    const deadline = Date.now() + HANG_TIMEOUT_MS;
    let lag = 0;
    do {
      assert.ok(Date.now() < deadline, `the lag reached only ${lag} s`);
      assert.equal((await put(server.url, `during the outage ${Date.now()}`)).status, 200);
      outage = await scrapeServer(metricsUrl, secrets);
      const now = outage.value("litepaste_replication_lag_seconds");
      assert.ok(now >= lag, `the lag went down from ${lag} to ${now} s during the outage`);
      lag = now;
      await sleep(100);
    } while (lag <= 2);
    assert.ok((await lagSeconds(server)) > 2);
    assert.ok(outage.value("litepaste_replication_sync_errors_total") > shipped.value("litepaste_replication_sync_errors_total"));
    assert.equal(outage.value("litepaste_replication_healthy"), 0);
    assert.ok(outage.value("litepaste_object_store_requests_total", { operation: "PutObject" }) > shipped.value("litepaste_object_store_requests_total", { operation: "PutObject" }), "failed attempts are requests too");
  } finally {
    await s3.restart();
  }

  const recovered = await eventually(async () => {
    const m = await scrapeServer(metricsUrl, secrets);
    assert.ok(m.value("litepaste_replication_lag_seconds") < 1, `lag ${m.value("litepaste_replication_lag_seconds")}`);
    assert.ok(m.value("litepaste_replication_syncs_total") > outage.value("litepaste_replication_syncs_total"));
    return m;
  }).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${server.output()}`);
  });
  assert.equal(recovered.value("litepaste_replication_healthy"), 1);
  assert.ok((await lagSeconds(server)) < 1);
  assert.equal(await server.stop(), 0, server.output());
});
