// Prometheus metrics (docs/metrics.md): one registry per server, so that tests can run
// several. HTTP and paste counters are counted as things happen; replication's are read
// from its plain counters when /metrics is scraped.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Replication } from "../replication/index.js";
import { EventLoopDelay } from "./event-loop-delay.js";

/** The route label of requests no route matched: a raw URL would make one series per id tried. */
export const UNMATCHED_ROUTE = "unmatched";

/** A request's series, looked up once per method, route and status and then reused. */
interface ServedSeries {
  readonly requests: { inc(): void };
  readonly duration: { observe(seconds: number): void };
}

export type ReplicationSource = Pick<Replication, "status" | "metrics">;

export class Metrics {
  private readonly registry = new Registry();
  private readonly requests: Counter<"method" | "route" | "status">;
  private readonly requestSeconds: Histogram<"method" | "route">;
  private readonly pastes: Counter;
  private readonly pasteBytes: Counter;
  /** route → method → status: bounded by the route table, HTTP's methods and statuses. */
  private readonly served = new Map<string, Map<string, Map<number, ServedSeries>>>();

  constructor(replication?: ReplicationSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.registry.registerMetric(new EventLoopDelay().asMetric());
    this.requests = new Counter({
      name: "litepaste_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: "litepaste_http_request_duration_seconds",
      help: "Time from receiving a request to the end of its answer, by method and route pattern",
      labelNames: ["method", "route"],
      registers,
    });
    this.pastes = new Counter({ name: "litepaste_pastes_stored_total", help: "Pastes stored", registers });
    this.pasteBytes = new Counter({ name: "litepaste_paste_bytes_stored_total", help: "Bytes of the pastes stored", registers });
    if (replication) registerReplicationMetrics(this.registry, replication);
  }

  /** `route` is the matched route's pattern, undefined when none matched. */
  requestServed(method: string, route: string | undefined, status: number, seconds: number): void {
    const series = this.series(method, route ?? UNMATCHED_ROUTE, status);
    series.requests.inc();
    series.duration.observe(seconds);
  }

  // Once per series, not per request: the label objects and prom-client's children are
  // made here and kept, so a request allocates nothing for its metrics.
  private series(method: string, route: string, status: number): ServedSeries {
    let byMethod = this.served.get(route);
    if (!byMethod) this.served.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      series = { requests: this.requests.labels({ method, route, status: String(status) }), duration: this.requestSeconds.labels({ method, route }) };
      byStatus.set(status, series);
    }
    return series;
  }

  pasteStored(bytes: number): void {
    this.pastes.inc();
    this.pasteBytes.inc(bytes);
  }

  /** Upload bytes held in memory, read at every scrape (how close the server is to -maxinflight). */
  watchUploadBudget(inFlightBytes: () => number, capBytes: number): void {
    pulledGauge(this.registry, "litepaste_upload_inflight_bytes", "Upload bytes held in memory by the requests in flight", inFlightBytes);
    pulledGauge(this.registry, "litepaste_upload_inflight_limit_bytes", "The most upload bytes held at once (-maxinflight); uploads past it get 503", () => capBytes);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** A counter whose value is read from elsewhere at every scrape, by label value when `label` is given. */
function pulledCounter(registry: Registry, name: string, help: string, read: () => number): void;
function pulledCounter(registry: Registry, name: string, help: string, read: () => Record<string, number>, label: string): void;
function pulledCounter(registry: Registry, name: string, help: string, read: () => number | Record<string, number>, label?: string): void {
  new Counter({
    name,
    help,
    labelNames: label ? [label] : [],
    registers: [registry],
    collect() {
      this.reset();
      const value = read();
      if (typeof value === "number") this.inc(value);
      else for (const [key, n] of Object.entries(value)) this.inc({ [label!]: key }, n);
    },
  });
}

function pulledGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

function registerReplicationMetrics(registry: Registry, replication: ReplicationSource): void {
  const counters = () => replication.metrics();
  pulledGauge(registry, "litepaste_replication_lag_seconds", "Age of the oldest commit not yet in the replica; 0 when it holds everything", () => replication.status().lagSeconds);
  pulledGauge(registry, "litepaste_replication_healthy", "1 while replication works, 0 from a failed upload until the next one succeeds", () => (replication.status().healthy ? 1 : 0));
  new Gauge({
    name: "litepaste_replication_generation_info",
    help: "The replica's current generation, as a label (no series until the first snapshot is uploaded)",
    labelNames: ["generation"],
    registers: [registry],
    collect() {
      this.reset();
      const { generation } = replication.status();
      if (generation !== null) this.set({ generation }, 1);
    },
  });
  pulledCounter(registry, "litepaste_replication_syncs_total", "WAL segments uploaded to the replica", () => counters().syncs);
  pulledCounter(registry, "litepaste_replication_sync_errors_total", "Failed attempts to ship to the replica", () => counters().syncErrors);
  pulledCounter(registry, "litepaste_replication_shipped_bytes_total", "Bytes of WAL segments uploaded, LZ4-compressed", () => counters().shippedBytes);
  pulledCounter(registry, "litepaste_replication_shipped_wal_bytes_total", "WAL bytes shipped, before compression", () => counters().shippedWalBytes);
  pulledGauge(registry, "litepaste_wal_bytes", "Size of the database's -wal file", () => counters().walBytes);
  pulledCounter(registry, "litepaste_checkpoints_total", "Checkpoints run by the replicator, by mode", () => counters().checkpoints, "mode");
  pulledCounter(registry, "litepaste_snapshots_total", "Snapshots uploaded to the replica", () => counters().snapshots);
  pulledCounter(registry, "litepaste_snapshot_seconds_total", "Time spent uploading snapshots", () => counters().snapshotSeconds);
  pulledCounter(registry, "litepaste_object_store_requests_total", "Requests sent to the replica's object store, by operation", () => counters().objectStoreRequests, "operation");
}
