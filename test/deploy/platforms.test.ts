// The platform files a deploy command reads as they are: fly.toml (through a TOML parser),
// app.json (JSON) and heroku.yml, checked against what the image and the server need.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { parseDuration } from "../../internal/duration.js";
import { projectRoot } from "../../testkit/paths.js";
import { instructionsOf, parseDockerfile } from "./dockerfile.js";
import { parse as parseYaml } from "yaml";

const read = (file: string) => readFileSync(path.join(projectRoot, file), "utf8");
const exposedPort = Number(instructionsOf(parseDockerfile(read("Dockerfile")).stages.at(-1)!, "EXPOSE")[0]?.args);

interface FlyConfig {
  app?: unknown;
  kill_signal?: unknown;
  kill_timeout?: unknown;
  build?: { dockerfile?: unknown; image?: unknown };
  env?: Record<string, unknown>;
  deploy?: { strategy?: unknown };
  http_service?: {
    internal_port?: unknown;
    auto_stop_machines?: unknown;
    auto_start_machines?: unknown;
    min_machines_running?: unknown;
    checks?: { path?: unknown; method?: unknown; grace_period?: unknown }[];
  };
}

test("fly.toml: the image's port, PORT and proxy mode, a /healthz check, time to flush on SIGTERM, one Machine that may stop when idle", () => {
  const fly = parseToml(read("fly.toml")) as FlyConfig;
  assert.equal(typeof fly.app, "string");
  assert.equal(fly.build?.dockerfile, "Dockerfile");

  const service = fly.http_service!;
  assert.equal(service.internal_port, exposedPort);
  assert.equal(fly.env?.PORT, String(exposedPort));
  assert.ok(typeof fly.env?.LP_BEHIND_PROXY === "string" && fly.env.LP_BEHIND_PROXY !== "", "LP_BEHIND_PROXY set: Fly's proxy is in front");

  const check = service.checks?.find((c) => c.path === "/healthz");
  assert.ok(check, "an HTTP check on /healthz");
  assert.equal(check.method, "GET");
  assert.ok(parseDuration(String(check.grace_period)) >= 30_000, "a grace period that covers a restore at start");

  assert.equal(fly.kill_signal, "SIGTERM");
  const killTimeoutMs = typeof fly.kill_timeout === "number" ? fly.kill_timeout * 1000 : parseDuration(String(fly.kill_timeout));
  assert.ok(killTimeoutMs >= 30_000, `kill_timeout ${String(fly.kill_timeout)} leaves time to flush the WAL`);

  // Stopping idle Machines is safe because a start without a database restores it.
  assert.equal(service.auto_stop_machines, "stop");
  assert.equal(service.auto_start_machines, true);
  assert.equal(service.min_machines_running, 0);
  // Strategies that start a second Machine beside the first would make two writers.
  assert.ok(!["bluegreen", "canary"].includes(String(fly.deploy?.strategy)), `deploy strategy ${String(fly.deploy?.strategy)}`);
});

interface HerokuApp {
  stack?: unknown;
  formation?: { web?: { quantity?: unknown } };
  env?: Record<string, { required?: boolean; value?: string }>;
}

test("app.json and heroku.yml: container stack, one web dyno built from the Dockerfile, replication required", () => {
  const app = JSON.parse(read("app.json")) as HerokuApp;
  assert.equal(app.stack, "container");
  assert.equal(app.formation?.web?.quantity, 1);
  assert.equal(app.env?.DB_REPLICA_URL?.required, true, "a dyno's disk is wiped on restart: the replica is the database");
  assert.ok(app.env?.LP_BEHIND_PROXY?.value, "Heroku's router is a proxy");
  assert.equal(parseDuration(app.env?.DB_SYNC_INTERVAL?.value ?? ""), 10_000, "LogPaste's image default");

  const herokuYml = parseYaml(read("heroku.yml")) as Record<string, unknown>;
  assert.deepEqual(herokuYml.build, { docker: { web: "Dockerfile" } });
  // Without `run:` Heroku runs the image's CMD; the command itself is tested in entrypoint.test.ts.
  const web = (herokuYml.run as Record<string, unknown> | undefined)?.web;
  assert.equal(web, `exec ${JSON.parse(instructionsOf(parseDockerfile(read("Dockerfile")).stages.at(-1)!, "ENTRYPOINT")[0]!.args)[0]}`, "the web process is the image's entry point, exec'd");
  assert.deepEqual(Object.keys(herokuYml).sort(), ["build", "run"]);
});

test("docker-compose.yml: MinIO's images from its own registry (quay.io/minio), each pinned to a release", () => {
  const compose = parseYaml(read("docker-compose.yml")) as { services: Record<string, { image?: string }> };
  const images = Object.values(compose.services).flatMap((service) => (service.image ? [service.image] : []));
  const minio = images.filter((image) => /minio/.test(image));
  assert.equal(minio.length, 2, images.join(", "));
  for (const image of minio) assert.match(image, /^quay\.io\/minio\/(minio|mc):RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z$/);
});
