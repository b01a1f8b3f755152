// What a throughput round learns about the server besides req/s and latency: how long its
// event loop was held (litepaste_event_loop_delay_seconds, whose window restarts at each
// scrape, so one scrape just before the load and one right after frame the round) and its
// peak RSS so far, read from /proc so the reading costs the server nothing.

import type { ServedProcess } from "../../testkit/litepaste-process.js";
import { scrape } from "../../testkit/prometheus.js";
import { EVENT_LOOP_DELAY_METRIC } from "../../server/event-loop-delay.js";
import { peakRssBytes } from "./rss.js";

export interface ServerWatch {
  readonly pid: number;
  /** The server's /metrics; null for a server without it (the bare Fastify baseline). */
  readonly metricsUrl: string | null;
}

export interface ServerFigures {
  /** p99 of the event-loop delay over the round, in ms; null without /metrics. */
  readonly eventLoopP99Ms: number | null;
  /** Peak RSS since the server started, in bytes; null off Linux. */
  readonly peakRssBytes: number | null;
}

/** A litepaste server (with /metrics on its main port) or, with `metrics: false`, any other. */
export function watchOf(server: ServedProcess, metrics = true): ServerWatch {
  return { pid: server.pid, metricsUrl: metrics ? `${server.url}/metrics` : null };
}

/** Starts the round's event-loop window. */
export async function startWindow(watch: ServerWatch): Promise<void> {
  if (watch.metricsUrl) await scrape(watch.metricsUrl);
}

/** Ends it: the round's figures. */
export async function endWindow(watch: ServerWatch): Promise<ServerFigures> {
  let eventLoopP99Ms: number | null = null;
  if (watch.metricsUrl) eventLoopP99Ms = (await scrape(watch.metricsUrl)).value(EVENT_LOOP_DELAY_METRIC, { quantile: "0.99" }) * 1000;
  return { eventLoopP99Ms, peakRssBytes: peakRssBytes(watch.pid) };
}
