// The Dockerfile, without a Docker engine: its key instructions read from the file, and its
// runtime image rebuilt in a temp dir by following its own COPY lines and its own
// production-install RUN line (npm ci --omit=dev, better-sqlite3 built from source), then
// served through the entry point and probed with the HEALTHCHECK command it declares.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { projectRoot } from "../../testkit/paths.js";
import { instructionsOf, parseCopy, parseDockerfile, stageNamed, type Stage } from "./dockerfile.js";
import { CLI_IN_BUILD } from "../../testkit/litepaste-process.js";
import { containerEnv, startEntrypoint } from "./entrypoint-process.js";
import { freshDir } from "../../testkit/scratch.js";

const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dockerfile = parseDockerfile(readFileSync(path.join(projectRoot, "Dockerfile"), "utf8"));
const runtime = dockerfile.stages.at(-1)!;

function only(stage: Stage, keyword: string): string {
  const found = instructionsOf(stage, keyword);
  assert.equal(found.length, 1, `one ${keyword} in stage ${stage.name}`);
  return found[0]!.args;
}

/** The exec-form command of HEALTHCHECK (… CMD ["node", "-e", "…"]). */
function healthcheckCommand(): string[] {
  const cmd = /\bCMD\s+(\[.*\])\s*$/s.exec(only(runtime, "HEALTHCHECK"))?.[1];
  assert.ok(cmd, "HEALTHCHECK uses the exec form");
  return JSON.parse(cmd) as string[];
}

test("Dockerfile: a pinned Node LTS slim base, non-root, /app, port 3001, health check, SIGTERM, the entry point", () => {
  for (const stage of dockerfile.stages) {
    assert.match(stage.from, /^node:(22|24)-trixie-slim$/, `stage ${stage.name} is built FROM a pinned Node LTS major on Debian 13`);
  }
  assert.equal(runtime.name, "runtime");
  const user = only(runtime, "USER");
  assert.ok(!/^(root|0)(:|$)/.test(user), `USER ${user} is not root`);
  const workdirs = instructionsOf(runtime, "WORKDIR");
  assert.equal(workdirs.at(-1)?.args, "/app");
  assert.equal(only(runtime, "EXPOSE"), "3001");
  assert.equal(only(runtime, "STOPSIGNAL"), "SIGTERM");
  assert.deepEqual(JSON.parse(only(runtime, "ENTRYPOINT")), ["/app/docker_entrypoint"]);
  // A command of its own (Heroku without `run:` has nothing to run for an empty one), which
  // the entry point takes as itself: see entrypoint.test.ts for it becoming the server.
  assert.deepEqual(JSON.parse(only(runtime, "CMD")), ["litepaste"]);
  assert.match(only(runtime, "RUN"), /ln -s \/app\/docker_entrypoint \/usr\/local\/bin\/litepaste/, "`litepaste` on the PATH is the entry point");
  assert.ok(healthcheckCommand().join(" ").includes("/healthz"));
  assert.match(only(runtime, "RUN"), /\/app\/data/, "the runtime creates /app/data for the unprivileged user");

  // Only production dependencies reach the runtime, and no compiler.
  const copies = instructionsOf(runtime, "COPY").map(parseCopy);
  const modules = copies.filter((c) => c.sources.some((s) => s.endsWith("node_modules")));
  assert.equal(modules.length, 1);
  const depsStage = stageNamed(dockerfile, modules[0]!.fromStage!);
  assert.ok(instructionsOf(depsStage, "RUN").some((r) => /npm ci\b.*--omit=dev/.test(r.args)), `stage ${depsStage.name} installs with --omit=dev`);
  // No dependency's install script runs but better-sqlite3's, the one native addon.
  const installs = instructionsOf(depsStage, "RUN").filter((r) => /\bnpm (ci|install|rebuild)\b/.test(r.args));
  assert.ok(installs.length > 0 && installs.every((r) => /npm ci\b[^&]*--ignore-scripts(?!=false)/.test(r.args)), "npm ci --ignore-scripts");
  assert.deepEqual(installs.flatMap((r) => [...r.args.matchAll(/npm rebuild ([^&]+)/g)].map((m) => m[1]!.trim())), ["better-sqlite3"]);
  assert.ok(!instructionsOf(runtime, "RUN").some((r) => /apt-get|npm (ci|install)/.test(r.args)));
});

test("the runtime image rebuilt from the Dockerfile's own steps serves pastes through its entry point", { timeout: 600_000 }, async () => {
  const root = freshDir("litepaste-image");
  try {
    // Each stage's WORKDIR /app is a directory of its own here, except the build stage's:
    // its /app/dist is the build this test runs from.
    assert.ok(instructionsOf(stageNamed(dockerfile, "build"), "RUN").some((r) => r.args.includes("npm run build")));
    const stageDirs = new Map<string, string>();
    /** Where a file of stage `name` (an absolute path under /app) is on this machine. */
    const stagePath = (name: string, file: string) => {
      assert.ok(file.startsWith("/app/"), `${file} is under /app`);
      const rest = file.slice("/app/".length);
      if (name === "build") {
        assert.ok(rest.startsWith("dist/"), `only dist/ is taken from the build stage, not ${file}`);
        return path.join(distRoot, rest.slice("dist/".length));
      }
      const dir = stageDirs.get(name);
      assert.ok(dir, `stage ${name} was prepared`);
      return path.join(dir, rest);
    };
    const runCopies = (stage: Stage, dir: string) => {
      for (const copy of instructionsOf(stage, "COPY").map(parseCopy)) {
        for (const source of copy.sources) {
          const from = copy.fromStage === null ? path.join(projectRoot, source) : stagePath(copy.fromStage, source);
          const into = path.resolve(dir, copy.destination);
          const target = statSync(from).isDirectory() || !copy.destination.endsWith("/") ? into : path.join(into, path.basename(source));
          mkdirSync(path.dirname(target), { recursive: true });
          cpSync(from, target, { recursive: true });
        }
      }
    };

    // The production dependencies: the stage's COPY lines, then its npm ci RUN line as written.
    const copiesOfRuntime = instructionsOf(runtime, "COPY").map(parseCopy);
    const depsName = copiesOfRuntime.find((c) => c.sources.some((s) => s.endsWith("node_modules")))!.fromStage!;
    const depsStage = stageNamed(dockerfile, depsName);
    const depsDir = path.join(root, depsName);
    mkdirSync(depsDir);
    stageDirs.set(depsName, depsDir);
    runCopies(depsStage, depsDir);
    const install = instructionsOf(depsStage, "RUN").find((r) => r.args.includes("npm ci"))!;
    const installed = spawnSync("sh", ["-c", install.args], { cwd: depsDir, encoding: "utf8", timeout: 540_000 });
    assert.equal(installed.status, 0, `${install.args}\n${installed.stdout}\n${installed.stderr}`);

    // The runtime stage's files, laid out as /app.
    const appDir = path.join(root, "app");
    mkdirSync(appDir);
    runCopies(runtime, appDir);
    const cli = path.join(appDir, "dist", CLI_IN_BUILD);

    const help = spawnSync(process.execPath, [cli, "--help"], { env: containerEnv({}), encoding: "utf8" });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /DB_REPLICA_URL/);

    const server = await startEntrypoint(path.join(appDir, "docker_entrypoint"), [], {});
    try {
      // The native addon in use is the one the Dockerfile's RUN line built and kept.
      const maps = readFileSync(`/proc/${server.pid}/maps`, "utf8");
      assert.ok(maps.includes(path.join(appDir, "node_modules/better-sqlite3/build/Release/better_sqlite3.node")));

      const put = await fetch(`${server.url}/`, { method: "PUT", body: "pasted into the rebuilt image" });
      assert.equal(put.status, 200);
      const { id } = (await put.json()) as { id: string };
      assert.equal(await (await fetch(`${server.url}/${id}`)).text(), "pasted into the rebuilt image");
      const client = await fetch(`${server.url}/static/js/logpaste.js`);
      assert.equal(await client.text(), readFileSync(path.join(appDir, "web/static/js/logpaste.js"), "utf8"));

      const port = new URL(server.url).port;
      const [command, ...args] = healthcheckCommand();
      const healthy = spawnSync(command!, args, { env: containerEnv({ PORT: port }), timeout: 10_000 });
      assert.equal(healthy.status, 0, "HEALTHCHECK passes while the server runs");

      assert.equal(await server.stop(), 0);
      const stopped = spawnSync(command!, args, { env: containerEnv({ PORT: port }), timeout: 10_000 });
      assert.notEqual(stopped.status, 0, "HEALTHCHECK fails once the server is gone");
    } finally {
      server.kill();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
