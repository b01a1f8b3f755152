// Regenerates the viewer's screenshots in docs/img/ (shown in the README): a colourful log
// in light and dark, and a pretty-printed JSON paste. Run after changing the viewer's look:
// `npx tsc -p tsconfig.json && node dist/scripts/viewer-screenshots.js`.

import path from "node:path";
import { startTestApp } from "../testkit/app-server.js";
import { launchChromium } from "../testkit/browser.js";
import { upload } from "../testkit/paste-client.js";
import { projectRoot } from "../testkit/paths.js";

const LOG = [
  "\x1b[2m2024-05-01T12:00:00.103Z\x1b[0m \x1b[32mINFO \x1b[0m \x1b[1mapi\x1b[0m listening on :3001",
  "\x1b[2m2024-05-01T12:00:00.118Z\x1b[0m \x1b[32mINFO \x1b[0m \x1b[1mdb\x1b[0m  opened data/store.db (WAL)",
  "\x1b[2m2024-05-01T12:00:01.004Z\x1b[0m \x1b[36mDEBUG\x1b[0m \x1b[1mapi\x1b[0m GET /healthz \x1b[38;5;40m200\x1b[0m 0.4ms",
  "\x1b[2m2024-05-01T12:00:02.551Z\x1b[0m \x1b[33mWARN \x1b[0m \x1b[1mrepl\x1b[0m replica slow: lag \x1b[38;2;255;170;0m2.4s\x1b[0m",
  "\x1b[2m2024-05-01T12:00:03.870Z\x1b[0m \x1b[31mERROR\x1b[0m \x1b[1mrepl\x1b[0m PUT s3://backups/generations/0001/wal/0042.lz4: \x1b[41;97m connection reset \x1b[0m",
  "    at Replicator.ship (replication/replicator.ts:212:11)",
  "    at async Timeout._onTimeout (replication/replicator.ts:98:5)",
  "\x1b[2m2024-05-01T12:00:04.002Z\x1b[0m \x1b[32mINFO \x1b[0m \x1b[1mrepl\x1b[0m retry 1/5 in 250ms",
  "\x1b[2m2024-05-01T12:00:04.260Z\x1b[0m \x1b[32mINFO \x1b[0m \x1b[1mrepl\x1b[0m shipped 3 WAL segments \x1b[38;5;244m(41 KiB)\x1b[0m",
  '{"level":30,"time":1714564805000,"msg":"upload","id":"aBcD1234","bytes":18234}',
  '{"level":50,"time":1714564806000,"msg":"disk full","err":"SQLITE_FULL"}',
  "\x1b[2m2024-05-01T12:00:07.000Z\x1b[0m \x1b[35mTRACE\x1b[0m \x1b[1mhttp\x1b[0m keep-alive timeout\ttab\tseparated",
].join("\n");

const JSON_PASTE = JSON.stringify({ id: "aBcD1234", status: "degraded", replication: { generation: "a1b2c3d4e5f60718", lagSeconds: 2.4, healthy: false, lastError: "connection reset" }, checks: [{ name: "database", ok: true }, { name: "replica", ok: false }] });

const app = await startTestApp();
const browser = await launchChromium();
try {
  const log = (await upload(app.url, Buffer.from(LOG))).id!;
  const json = (await upload(app.url, Buffer.from(JSON_PASTE))).id!;
  const shots: Array<[string, string, "light" | "dark"]> = [
    ["viewer-light.png", `/${log}#L5-L7`, "light"],
    ["viewer-dark.png", `/${log}#L5-L7`, "dark"],
    ["viewer-json.png", `/${json}?pretty`, "light"],
  ];
  for (const [file, url, colorScheme] of shots) {
    const page = await browser.newPage({ viewport: { width: 1100, height: 420 }, colorScheme });
    await page.goto(`${app.url}${url}`);
    await page.locator("html[data-viewer=ready]").waitFor();
    await page.screenshot({ path: path.join(projectRoot, "docs", "img", file) });
    await page.close();
  }
} finally {
  await browser.close();
  await app.close();
}
