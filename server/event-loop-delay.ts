// How long the event loop was held: every request waits behind whatever runs on it (a
// synchronous read, a checksum loop, a checkpoint). Served as a Prometheus summary,
// litepaste_event_loop_delay_seconds (docs/metrics.md).

import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import type { Metric } from "prom-client";

/** What prom-client's Registry reads from a metric at a scrape. */
interface Sample {
  readonly metricName?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * Node's monitor fires a timer this often and records how late each firing is. 10 ms is
 * prom-client's own choice: a sample costs next to nothing, and a hold of any length still
 * shows, as the lateness of the firing it delayed.
 */
export const DEFAULT_EVENT_LOOP_RESOLUTION_MS = 10;

export const EVENT_LOOP_DELAY_METRIC = "litepaste_event_loop_delay_seconds";
/** Quantile "1" is the largest delay of the window. */
export const EVENT_LOOP_QUANTILES = [0.5, 0.9, 0.99, 1] as const;

const NS_PER_S = 1e9;

/**
 * Quantiles over the time since the previous scrape (the monitor restarts at each one, as
 * prom-client's nodejs_eventloop_lag_* do), so each scrape says how the loop fared since
 * the last; `_sum` and `_count` add up over the whole life of the process, as a summary's
 * must. Node records the interval between firings, so the resolution is taken off each
 * value: an idle loop reads 0, not 10 ms.
 */
export class EventLoopDelay {
  readonly name = EVENT_LOOP_DELAY_METRIC;
  readonly help = "How late the event loop ran a timer, in seconds: quantiles since the previous scrape (1 = the largest), sum and count since start";
  private readonly histogram: IntervalHistogram;
  private readonly resolutionNs: number;
  private sumSeconds = 0;
  private count = 0;

  constructor(resolutionMs = DEFAULT_EVENT_LOOP_RESOLUTION_MS) {
    this.resolutionNs = resolutionMs * 1e6;
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  private seconds(ns: number): number {
    return Math.max(0, ns - this.resolutionNs) / NS_PER_S;
  }

  get(): { name: string; help: string; type: "summary"; aggregator: "sum"; values: Sample[] } {
    const h = this.histogram;
    const n = h.count;
    // No firing in the window (two scrapes within one resolution): no quantiles to give.
    const values: Sample[] =
      n === 0 ? [] : EVENT_LOOP_QUANTILES.map((q) => ({ labels: { quantile: String(q) }, value: this.seconds(q === 1 ? h.max : h.percentile(q * 100)) }));
    if (n > 0) {
      this.sumSeconds += this.seconds(h.mean) * n;
      this.count += n;
    }
    h.reset();
    values.push(
      { metricName: `${this.name}_sum`, labels: {}, value: this.sumSeconds },
      { metricName: `${this.name}_count`, labels: {}, value: this.count },
    );
    return { name: this.name, help: this.help, type: "summary", aggregator: "sum", values };
  }

  reset(): void {
    this.histogram.reset();
  }

  /** For prom-client's Registry, which takes its own metric classes only in its types. */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
