// docker_entrypoint outside a container: an /app-like directory holding a copy of the
// script and this build's dist/, the script run as the process (as Docker runs it), and
// the server it becomes checked through the kernel (/proc), HTTP and the replica it wrote.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { projectRoot } from "../../testkit/paths.js";
import { CLI_IN_BUILD } from "../../testkit/litepaste-process.js";
import { instructionsOf, parseDockerfile } from "./dockerfile.js";
import { containerEnv, processArgv, processEnv, startEntrypoint, type RunningEntrypoint } from "./entrypoint-process.js";
import { parse as parseYaml } from "yaml";
import { freshDir } from "../../testkit/scratch.js";

/** The build this test runs from (dist/ in CI, a helper's own dist-XX/ while developing). */
const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

interface AppDir {
  readonly root: string;
  readonly dir: string;
  readonly entrypoint: string;
  cleanup(): void;
}

const runtime = parseDockerfile(readFileSync(path.join(projectRoot, "Dockerfile"), "utf8")).stages.at(-1)!;
const runtimeRun = instructionsOf(runtime, "RUN").map((r) => r.args).join(" && ");

/** The links the runtime stage makes inside /app (`ln -s TARGET /app/NAME`), as [target, name]. */
const appLinks = [...runtimeRun.matchAll(/\bln -s (\S+) \/app\/(\S+)/g)].map((m) => [m[1]!, m[2]!] as const);

/** The mode the runtime stage gives /app/data (`install -d … -m MODE /app/data`). */
function dataDirMode(): number {
  const mode = /\binstall -d\b[^&]*?-m (\d+) \/app\/data\b/.exec(runtimeRun)?.[1];
  assert.ok(mode, "the runtime stage creates /app/data with install -d -m MODE");
  return parseInt(mode, 8);
}

/** A temp dir laid out like the image's /app: docker_entrypoint, the Dockerfile's links to it, and dist/. */
function makeAppDir(): AppDir {
  const root = freshDir("litepaste-entrypoint");
  const dir = path.join(root, "app");
  mkdirSync(dir);
  const entrypoint = path.join(dir, "docker_entrypoint");
  copyFileSync(path.join(projectRoot, "docker_entrypoint"), entrypoint);
  chmodSync(entrypoint, 0o755);
  for (const [target, name] of appLinks) symlinkSync(target, path.join(dir, name));
  symlinkSync(distRoot, path.join(dir, "dist"));
  return { root, dir, entrypoint, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** The exec-form CMD of the runtime stage. */
function imageCmd(): string[] {
  const cmd = instructionsOf(runtime, "CMD");
  assert.equal(cmd.length, 1, "one CMD in the runtime stage");
  return JSON.parse(cmd[0]!.args) as string[];
}

function decodeHtml(text: string): string {
  const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (entity, body: string) => {
    if (body.startsWith("#x") || body.startsWith("#X")) return String.fromCodePoint(parseInt(body.slice(2), 16));
    if (body.startsWith("#")) return String.fromCodePoint(Number(body.slice(1)));
    return named[body] ?? entity;
  });
}

async function put(url: string, body: string): Promise<string> {
  const res = await fetch(`${url}/`, { method: "PUT", body });
  assert.equal(res.status, 200);
  return ((await res.json()) as { id: string }).id;
}

test("becomes the node process with its arguments intact, maps LogPaste's environment, stops with 0 on SIGTERM", async () => {
  const app = makeAppDir();
  const title = `My "quoted" <b>logs</b> & more`;
  const args = ["-title", title, "-showdocs=false"];
  // LogPaste's entry point skipped empty variables; a compose file passing SITE_SUBTITLE=${SITE_SUBTITLE}
  // through unset leaves them empty. The server would reject PER_MINUTE_LIMIT="" outright.
  let server: RunningEntrypoint | undefined;
  try {
    server = await startEntrypoint(app.entrypoint, args, { SITE_SUBTITLE: "", PER_MINUTE_LIMIT: "", CREATE_NEW_DB: "true" });
    // exec: the pid Docker started is Node itself, so SIGTERM reaches the server.
    const argv = processArgv(server.pid);
    assert.equal(path.basename(argv[0]!), "node");
    assert.equal(argv[1], path.join(app.dir, "dist", CLI_IN_BUILD));
    assert.deepEqual(argv.slice(2), args);

    const env = processEnv(server.pid);
    assert.equal(env.get("DB_PATH"), path.join(app.dir, "data/store.db"), "LogPaste's image kept the database in /app/data");
    assert.equal(env.has("SITE_SUBTITLE"), false);
    assert.equal(env.has("PER_MINUTE_LIMIT"), false);
    assert.equal(env.has("DB_SYNC_INTERVAL"), false, "no replica, no sync interval");

    const home = await (await fetch(`${server.url}/`)).text();
    const shownTitle = /<title>([^<]*)<\/title>/.exec(home)?.[1];
    assert.ok(shownTitle !== undefined, "the home page has a <title> without raw markup in it");
    assert.equal(decodeHtml(shownTitle), title);
    assert.ok(home.includes("A minimalist, open-source debug log upload service"), "an empty SITE_SUBTITLE leaves LogPaste's default");

    const id = await put(server.url, "hello from the entry point");
    assert.equal(await (await fetch(`${server.url}/${id}`)).text(), "hello from the entry point");
    assert.ok(existsSync(path.join(app.dir, "data/store.db")));

    assert.equal(await server.stop(), 0);
    assert.match(server.output(), /CREATE_NEW_DB is not needed/);
  } finally {
    server?.kill();
    app.cleanup();
  }
});

test("with a file replica: LogPaste's 10s sync interval by default, the last uploads flushed on SIGTERM, replica commands through `litepaste`", async () => {
  const app = makeAppDir();
  const replicaDir = path.join(app.root, "replica");
  const replicaUrl = pathToFileURL(replicaDir).href;
  const dbPath = path.join(app.root, "volume", "store.db");
  let server: RunningEntrypoint | undefined;
  try {
    server = await startEntrypoint(app.entrypoint, [], { DB_REPLICA_URL: replicaUrl, DB_PATH: dbPath, DB_SYNC_INTERVAL: "" });
    const env = processEnv(server.pid);
    assert.equal(env.get("DB_SYNC_INTERVAL"), "10s");
    assert.equal(env.get("DB_PATH"), dbPath);

    // Two uploads in quick succession: with a 10 s interval the second cannot have been
    // shipped before SIGTERM, so finding it in the replica shows the shutdown flush.
    const first = await put(server.url, "first paste");
    const second = await put(server.url, "second paste, just before the stop");
    assert.equal(await server.stop(), 0);
    const replicaFiles = readdirSync(replicaDir, { recursive: true, encoding: "utf8" });
    assert.ok(replicaFiles.some((file) => /^generations\/[0-9a-f]{16}\/wal\/[0-9a-f]+_[0-9a-f]+\.wal\.lz4$/.test(file)), replicaFiles.join("\n"));

    // The image links /usr/local/bin/litepaste to the entry point: it must find /app from a symlink.
    const bin = path.join(app.root, "bin");
    mkdirSync(bin);
    const litepaste = path.join(bin, "litepaste");
    symlinkSync(app.entrypoint, litepaste);

    const generations = spawnSync(litepaste, ["generations", replicaUrl], { env: containerEnv({}), encoding: "utf8" });
    assert.equal(generations.status, 0, generations.stderr);
    const [generation] = readdirSync(path.join(replicaDir, "generations"));
    assert.ok(generation !== undefined && generations.stdout.includes(generation), generations.stdout);

    const restored = path.join(app.root, "restored.db");
    const restore = spawnSync(litepaste, ["restore", "-o", restored, replicaUrl], { env: containerEnv({}), encoding: "utf8" });
    assert.equal(restore.status, 0, restore.stderr);
    const db = new Database(restored, { readonly: true });
    try {
      const read = db.prepare("SELECT CAST(contents AS BLOB) AS contents FROM entries WHERE id = ?");
      const contentsOf = (id: string) => (read.get(id) as { contents: Buffer } | undefined)?.contents.toString();
      assert.equal(contentsOf(first), "first paste");
      assert.equal(contentsOf(second), "second paste, just before the stop");
    } finally {
      db.close();
    }
  } finally {
    server?.kill();
    app.cleanup();
  }
});

test("an operator's DB_SYNC_INTERVAL wins over the image's default", async () => {
  const app = makeAppDir();
  const replicaUrl = pathToFileURL(path.join(app.root, "replica")).href;
  let server: RunningEntrypoint | undefined;
  try {
    server = await startEntrypoint(app.entrypoint, [], { DB_REPLICA_URL: replicaUrl, DB_PATH: path.join(app.root, "store.db"), DB_SYNC_INTERVAL: "250ms" });
    assert.equal(processEnv(server.pid).get("DB_SYNC_INTERVAL"), "250ms");
    assert.equal(await server.stop(), 0);
  } finally {
    server?.kill();
    app.cleanup();
  }
});

test("refuses to serve from a data directory it cannot write, and says which and how to fix it", () => {
  const app = makeAppDir();
  const dataDir = path.join(app.dir, "data");
  try {
    // Like a host directory Docker created as root for a bind mount, seen by uid 1000.
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(app.root, 0o755);
    let command = app.entrypoint;
    let args: string[] = [];
    if (process.getuid?.() === 0) {
      // root may write anywhere: run as nobody, as the image runs as an unprivileged user.
      command = "setpriv";
      args = ["--reuid=65534", "--regid=65534", "--clear-groups", app.entrypoint];
    } else {
      chmodSync(dataDir, 0o555);
    }
    const run = spawnSync(command, args, { env: containerEnv({ PORT: "0" }), encoding: "utf8" });
    assert.equal(run.status, 1, run.stderr);
    assert.ok(run.stderr.includes(`${dataDir} is owned by uid`), run.stderr);
    assert.match(run.stderr, /chown -R 1000:1000/);
    assert.equal(existsSync(path.join(dataDir, "store.db")), false);
  } finally {
    if (existsSync(dataDir)) chmodSync(dataDir, 0o755);
    app.cleanup();
  }
});

test("runs as a uid other than the image's (as Heroku may), started by LogPaste's other entry point name", async () => {
  const app = makeAppDir();
  // The image's /app/data: owned by the image's user (uid 1000), with the Dockerfile's mode.
  const dataDir = path.join(app.dir, "data");
  mkdirSync(dataDir);
  chmodSync(dataDir, dataDirMode());
  chmodSync(app.root, 0o755);
  // Switching to another uid needs root (the test machines run as root); without it the
  // test runs as the tester's own uid and shows only that the mode lets a uid write.
  const root = process.getuid?.() === 0;
  if (root) chownSync(dataDir, 1000, 1000);
  const otherUid = root ? 4242 : process.getuid!();
  const aliases = appLinks.filter(([target]) => target === "docker_entrypoint").map(([, name]) => name);
  assert.ok(aliases.includes("docker-entrypoint"), "the image has /app/docker-entrypoint as well as /app/docker_entrypoint");
  const asOther = (script: string, args: string[]) => (root ? ["--reuid=4242", "--regid=4242", "--clear-groups", script, ...args] : [script, ...args]);
  let server: RunningEntrypoint | undefined;
  try {
    const script = path.join(app.dir, "docker-entrypoint");
    server = await (root ? startEntrypoint("setpriv", asOther(script, []), {}) : startEntrypoint(script, [], {}));
    assert.equal(statSync(`/proc/${server.pid}`).uid, otherUid);
    assert.equal(processArgv(server.pid)[1], path.join(app.dir, "dist", CLI_IN_BUILD), "found /app by its other name");
    const id = await put(server.url, "written by another uid");
    assert.equal(await (await fetch(`${server.url}/${id}`)).text(), "written by another uid");
    assert.equal(statSync(path.join(dataDir, "store.db")).uid, otherUid);
    assert.equal(await server.stop(), 0);
  } finally {
    server?.kill();
    app.cleanup();
  }
});

test("the image's CMD and heroku.yml's web command both become the server, whichever way the platform hands them over", async () => {
  const app = makeAppDir();
  const web = (parseYaml(readFileSync(path.join(projectRoot, "heroku.yml"), "utf8")) as { run?: Record<string, unknown> }).run?.web;
  assert.ok(typeof web === "string", "heroku.yml names the web command");
  // heroku.yml speaks of the image's paths: here /app is app.dir.
  const webHere = web.replaceAll("/app/", `${app.dir}/`);
  const launches: [string, string[]][] = [
    ["docker run IMAGE: ENTRYPOINT + CMD", imageCmd()],
    ["ENTRYPOINT + run: web through a shell", ["/bin/sh", "-c", webHere]],
    ["ENTRYPOINT + run: web as arguments", webHere.split(" ")],
  ];
  try {
    for (const [how, args] of launches) {
      // The image puts `litepaste` on the PATH as a link to the entry point.
      const bin = path.join(app.root, "bin");
      if (!existsSync(bin)) {
        mkdirSync(bin);
        symlinkSync(app.entrypoint, path.join(bin, "litepaste"));
      }
      const server = await startEntrypoint(app.entrypoint, args, { PATH: `${bin}:${process.env.PATH}`, DB_PATH: path.join(app.root, "store.db") });
      try {
        const argv = processArgv(server.pid);
        assert.equal(path.basename(argv[0]!), "node", `${how}: the process is Node, so SIGTERM reaches the server`);
        assert.deepEqual(argv.slice(1), [path.join(app.dir, "dist", CLI_IN_BUILD)], `${how}: serving, with no stray arguments`);
        assert.equal(await server.stop(), 0, how);
      } finally {
        server.kill();
      }
    }
  } finally {
    app.cleanup();
  }
});

test("a program that is not a litepaste command runs in the image's environment; an unknown word is litepaste's to reject", () => {
  const app = makeAppDir();
  try {
    const shell = spawnSync(app.entrypoint, ["sh", "-c", 'echo "$DB_PATH"'], { env: containerEnv({}), encoding: "utf8" });
    assert.equal(shell.status, 0, shell.stderr);
    assert.equal(shell.stdout.trim(), path.join(app.dir, "data/store.db"));
    const unknown = spawnSync(app.entrypoint, ["no-such-command-or-program"], { env: containerEnv({ PORT: "0" }), encoding: "utf8", timeout: 30_000 });
    assert.equal(unknown.status, 2, unknown.stderr);
    assert.match(unknown.stderr, /unexpected argument: no-such-command-or-program/, "the server's own message, not the shell's");
  } finally {
    app.cleanup();
  }
});

test("issue 13: serving reads a mounted litestream.yml (the image's /etc/litestream.yml) unless -config or LITESTREAM_CONFIG names one", async () => {
  const app = makeAppDir();
  const replicaDir = path.join(app.root, "replica");
  const yml = path.join(app.root, "litestream.yml");
  writeFileSync(yml, `dbs:\n  - path: \${DB_PATH}\n    replicas:\n      - type: file\n        path: ${replicaDir}\n        sync-interval: 250ms\n`);
  let server: RunningEntrypoint | undefined;
  try {
    server = await startEntrypoint(app.entrypoint, ["-title", "mounted"], { LITEPASTE_LITESTREAM_YML: yml, LOG_LEVEL: "info" });
    assert.deepEqual(processArgv(server.pid).slice(2), ["-config", yml, "-title", "mounted"]);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { replication: { target: string } | null };
    assert.equal(health.replication?.target, pathToFileURL(replicaDir).href, "the replica is the file's");
    assert.equal(await server.stop(), 0);
    server = undefined;

    const other = path.join(app.root, "other.yml");
    writeFileSync(other, "dbs:\n  - path: ${DB_PATH}\n");
    for (const [args, env] of [[["-config", other], {}], [[`--config=${other}`], {}], [[], { LITESTREAM_CONFIG: other }]] as const) {
      server = await startEntrypoint(app.entrypoint, args, { LITEPASTE_LITESTREAM_YML: yml, ...env });
      assert.deepEqual(processArgv(server.pid).slice(2), args, "the operator's choice is passed as it is");
      const h = (await (await fetch(`${server.url}/healthz`)).json()) as { replication: unknown };
      assert.equal(h.replication, null, `${args.join(" ")}: the other file has no replica`);
      assert.equal(await server.stop(), 0);
      server = undefined;
    }
  } finally {
    server?.kill();
    app.cleanup();
  }
});
