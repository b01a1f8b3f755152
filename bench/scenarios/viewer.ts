// The log viewer on the large log (2 MiB, 50,000 lines): first paint and load event
// in headless Chromium, and the server's CPU time per HTML view, read from /proc.

import fs from "node:fs";
import type { Browser } from "playwright-core";
import type { Scenario, ScenarioResult } from "../scenario.js";
import { putPaste } from "../lib/pastes.js";
import { formatSpread, spread } from "../lib/stats.js";
import { launchChromium } from "../../testkit/browser.js";
import { serveCli } from "../../testkit/litepaste-process.js";

const LOG_BYTES = 2 * 1024 * 1024;
const LINES = 50_000;
const SERVER_VIEWS = 20;
const PAINT_GOAL_MS = 1000;
const LOAD_GOAL_MS = 3000;
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s. */
const CLOCK_TICKS_PER_S = 100;

/** Exactly LOG_BYTES in LINES lines, one in 50 an ERROR with ANSI colour. */
function bigLog(): Buffer {
  const lines = Array.from({ length: LINES }, (_, i) => (i % 50 === 0 ? `\x1b[31mERROR\x1b[0m req ${i} failed` : `INFO req ${i} ok`));
  const text = lines.join("\n");
  const pad = Math.floor((LOG_BYTES - Buffer.byteLength(text) - 1) / LINES);
  const padded = lines.map((l) => l + " ".repeat(pad)).join("\n");
  return Buffer.from(padded + "x".repeat(LOG_BYTES - Buffer.byteLength(padded) - 1) + "\n");
}

function cpuMs(pid: number): number {
  // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

async function browserView(browser: Browser, url: string): Promise<{ paintMs: number; loadMs: number }> {
  const page = await browser.newPage();
  try {
    await page.goto(url, { waitUntil: "load" });
    await page.locator("html[data-viewer=ready]").waitFor();
    const timing = (await page.evaluate(`(() => {
      const paint = performance.getEntriesByName("first-contentful-paint")[0];
      const nav = performance.getEntriesByType("navigation")[0];
      return { paintMs: paint ? paint.startTime : NaN, loadMs: nav.loadEventEnd };
    })()`)) as { paintMs: number; loadMs: number };
    return timing;
  } finally {
    await page.close();
  }
}

export const viewerScenario: Scenario = {
  id: "viewer",
  title: "Log viewer, 2 MiB / 50,000 lines",
  async run(ctx): Promise<ScenarioResult> {
    const server = await serveCli({ DB_PATH: `${ctx.workDir}/viewer.db` });
    const browser = await launchChromium();
    const paint: number[] = [];
    const load: number[] = [];
    const cpuPerView: number[] = [];
    try {
      const id = await putPaste(server.url, bigLog());
      for (let round = 1; round <= ctx.rounds; round++) {
        ctx.log(`viewer: round ${round}/${ctx.rounds}`);
        const view = await browserView(browser, `${server.url}/${id}`);
        paint.push(view.paintMs);
        load.push(view.loadMs);
        const before = cpuMs(server.pid);
        for (let i = 0; i < SERVER_VIEWS; i++) {
          const res = await fetch(`${server.url}/${id}`, { headers: { accept: BROWSER_ACCEPT } });
          await res.arrayBuffer();
        }
        cpuPerView.push((cpuMs(server.pid) - before) / SERVER_VIEWS);
      }
    } finally {
      await browser.close();
      await server.stop();
    }
    const paintS = spread(paint);
    const loadS = spread(load);
    return {
      settings: { paste: `${LOG_BYTES} bytes, ${LINES} lines, one in 50 an ANSI-coloured ERROR`, browser: "Debian Chromium, headless (playwright-core)", "server views per round": String(SERVER_VIEWS) },
      tables: [
        {
          caption: `median (min–max) over ${ctx.rounds} rounds`,
          columns: ["what", "value"],
          rows: [
            ["first contentful paint (ms)", formatSpread(paintS, 0)],
            ["load event end (ms)", formatSpread(loadS, 0)],
            ["server CPU per HTML view (ms)", formatSpread(spread(cpuPerView), 1)],
          ],
        },
      ],
      charts: [],
      goals: [
        { name: "viewer first paint, 2 MiB log", goal: `≤ ${PAINT_GOAL_MS} ms`, measured: `${paintS.median.toFixed(0)} ms (median of ${ctx.rounds})`, met: paintS.median <= PAINT_GOAL_MS },
        { name: "viewer fully loaded, 2 MiB log", goal: `≤ ${LOAD_GOAL_MS} ms`, measured: `${loadS.median.toFixed(0)} ms (median of ${ctx.rounds})`, met: loadS.median <= LOAD_GOAL_MS },
      ],
      notes: [
        "A fresh page per round navigates to the paste (Accept as Chromium sends it); first paint is the first-contentful-paint entry, " +
          "fully loaded the navigation's loadEventEnd (viewer.js runs before it, deferred).",
        `Server CPU: the litepaste process's user+system time from /proc/<pid>/stat across ${SERVER_VIEWS} sequential HTML GETs, divided by ${SERVER_VIEWS} (1/100 s resolution).`,
      ],
    };
  },
};
