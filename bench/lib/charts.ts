// Charts are vega-lite specs, rendered to SVG by vega without a browser.

import { View, parse } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { Spread } from "./stats.js";

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface SpreadBar extends Spread {
  /** The x-axis group, e.g. "1 KiB" or "64 clients". */
  readonly group: string;
  /** What is compared inside a group, e.g. "litepaste" and "bare Fastify". */
  readonly series: string;
}

/**
 * Grouped bars at the median with a min–max whisker: the compared pair side by side.
 * `separateScales` draws each group as a panel with its own axis, for groups whose values
 * differ by orders of magnitude (1 KiB and 1 MiB pastes).
 */
export function spreadBars(title: string, valueTitle: string, bars: readonly SpreadBar[], { separateScales = false } = {}): TopLevelSpec {
  const color = { field: "series", type: "nominal", title: null, sort: null, legend: { orient: "bottom" } } as const;
  const layer = [
    { mark: "bar", encoding: { y: { field: "median", type: "quantitative", title: valueTitle } } },
    { mark: { type: "rule", color: "black" }, encoding: { y: { field: "min", type: "quantitative" }, y2: { field: "max" } } },
  ] as const;
  const base = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", title, data: { values: bars.map((b) => ({ ...b })) } } as const;
  if (separateScales) {
    return {
      ...base,
      facet: { column: { field: "group", type: "nominal", title: null, sort: null } },
      spec: {
        width: { step: 60 },
        height: 220,
        encoding: { x: { field: "series", type: "nominal", title: null, sort: null, axis: { labels: false, ticks: false } }, color },
        layer: [...layer],
      },
      resolve: { scale: { y: "independent" } },
    };
  }
  return {
    ...base,
    width: { step: 70 },
    height: 220,
    encoding: { x: { field: "group", type: "nominal", title: null, sort: null, axis: { labelAngle: 0 } }, xOffset: { field: "series", sort: null }, color },
    layer: [...layer],
  };
}

export interface LinePoint {
  readonly x: number;
  readonly y: number;
  readonly series: string;
}

/** Lines over time, e.g. RSS during a load run; `limit` draws a goal as a dashed line. */
export function lines(title: string, xTitle: string, yTitle: string, points: readonly LinePoint[], limit?: { readonly value: number; readonly label: string }): TopLevelSpec {
  const goal = limit ? [{ y: limit.value, label: limit.label }] : [];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 520,
    height: 220,
    layer: [
      {
        data: { values: points.map((p) => ({ ...p })) },
        mark: { type: "line", interpolate: "monotone" },
        encoding: {
          x: { field: "x", type: "quantitative", title: xTitle },
          y: { field: "y", type: "quantitative", title: yTitle, scale: { zero: true } },
          color: { field: "series", type: "nominal", title: null, legend: { orient: "bottom" } },
        },
      },
      { data: { values: goal }, mark: { type: "rule", color: "firebrick", strokeDash: [6, 4] }, encoding: { y: { field: "y", type: "quantitative" } } },
      {
        data: { values: goal },
        mark: { type: "text", align: "left", dx: 4, dy: -6, color: "firebrick" },
        encoding: { y: { field: "y", type: "quantitative" }, x: { datum: 0, type: "quantitative" }, text: { field: "label" } },
      },
    ],
  };
}
