import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import pino from "pino";
import { DEFAULT_APP_CONFIG } from "../testkit/app-server.js";
import { useScratchDirs } from "../testkit/scratch.js";
import { litepaste, type AppConfig } from "./app.js";
import { Metrics } from "./metrics.js";
import { couldBePasteId, newPasteId } from "./pastes/paste-id.js";
import { openStore } from "./pastes/store.js";
import { PASTE_SPACE, RESERVED_SEGMENTS, urlSpaceViolation } from "./url-space.js";

const newDir = useScratchDirs("litepaste-url-space");

/** The app on a Fastify instance that records every route registered on it. */
async function appWithRoutes(config: Partial<AppConfig> = {}): Promise<{ app: FastifyInstance; routes: Array<{ method: string; url: string }>; close(): Promise<void> }> {
  const store = openStore(path.join(newDir("db"), "store.db"), { replicated: false, synchronous: "NORMAL" });
  const app = Fastify();
  const routes: Array<{ method: string; url: string }> = [];
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  await app.register(litepaste, { config: { ...DEFAULT_APP_CONFIG, ...config }, store, logger: pino({ level: "silent" }), metrics: new Metrics() });
  return {
    app,
    routes,
    async close() {
      await app.close();
      store.close();
    },
  };
}

test("no reserved first path segment could be a paste id", () => {
  for (const segment of RESERVED_SEGMENTS) assert.equal(couldBePasteId(segment), false, segment);
  // The check itself tells ids apart.
  assert.equal(couldBePasteId(newPasteId()), true);
  assert.equal(couldBePasteId("healthz1"), true);
  assert.equal(couldBePasteId("health-z"), false);
});

for (const [name, config] of [
  ["with /metrics on the main listener", {}],
  ["with METRICS_ADDR", { metricsAddr: { host: "127.0.0.1", port: 0 } }],
] as const) {
  test(`every route the app registers (${name}) is in the paste space or under a reserved segment`, async () => {
    const { app, routes, close } = await appWithRoutes(config);
    try {
      await app.ready();
      const urls = new Set(routes.map((r) => r.url));
      // The enumeration saw the app's routes: the paste space and each reserved kind.
      for (const url of ["/", "/*", "/:id", "/:id/*", "/healthz", "/static/*", "/js/*", "/css/*", "/static/third-party/prism/prism.js", "/third-party/prism/prism.js", "/favicon.ico"]) assert.ok(urls.has(url), `${url} in ${[...urls].join(" ")}`);
      assert.equal(urls.has("/metrics"), !("metricsAddr" in config));
      const outside = routes.filter((r) => urlSpaceViolation(r.url) !== undefined).map((r) => `${r.method} ${r.url}`);
      assert.deepEqual(outside, []);
      for (const url of urls) {
        if ((Object.values(PASTE_SPACE) as string[]).includes(url)) continue;
        const first = url.split("/")[1]!;
        assert.ok((RESERVED_SEGMENTS as readonly string[]).includes(first) && !couldBePasteId(first), url);
      }
    } finally {
      await close();
    }
  });
}

test("a route that could shadow a paste id stops the app from starting", async () => {
  assert.match(urlSpaceViolation("/abcd1234")!, /outside the URL space/);
  assert.match(urlSpaceViolation("/settings/x")!, /outside the URL space/);
  assert.match(urlSpaceViolation("/:name")!, /outside the URL space/);
  assert.equal(urlSpaceViolation("/healthz"), undefined);
  for (const url of ["/abcd1234", "/:name/raw"]) {
    const { app, close } = await appWithRoutes();
    try {
      await assert.rejects(
        (async () => {
          await app.register(async (child) => {
            child.get(url, async () => "shadow");
          });
          await app.ready();
        })(),
        /outside the URL space/,
      );
    } finally {
      await close().catch(() => {});
    }
  }
});
