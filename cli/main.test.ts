// The dispatcher as a user runs it (the built cli/main.js): which words are commands, and
// which help a -h asks for.

import { test } from "node:test";
import assert from "node:assert/strict";
import { runCli as run, serveCli as serve } from "../testkit/litepaste-process.js";
import { useScratchDirs } from "../testkit/scratch.js";

const newDir = useScratchDirs("litepaste-main");

test("-h, -help, --h, --help and `help` print the overview and every setting; flags after them are not applied", () => {
  for (const args of [["-h"], ["-help"], ["--h"], ["--help"], ["help"], ["--h", "-title", "x"], ["-showdocs=false", "--h", "-perminutelimit", "ten"]]) {
    const res = run(args);
    assert.equal(res.status, 0, `${args.join(" ")}: ${res.stderr}`);
    assert.match(res.stdout, /^litepaste: a self-hosted paste service/, args.join(" "));
    assert.match(res.stdout, /litepaste restore \[flags\] URL/);
    assert.match(res.stdout, /DB_REPLICA_URL/);
    assert.equal(res.stderr, "");
  }
});

test("a command's -h is that command's usage, in any of Go's spellings", () => {
  for (const [command, usage] of [["restore", /^Usage: litepaste restore/], ["wal", /^Usage: litepaste wal/], ["replicate", /^Usage: litepaste replicate/]] as const) {
    for (const flag of ["-h", "--h", "-help", "--help"]) {
      const res = run([command, flag]);
      assert.equal(res.status, 0, `${command} ${flag}`);
      assert.match(res.stdout, usage, `${command} ${flag}`);
    }
  }
});

test("a flag's value is never a command: -title help sets the title, -title restore too", async () => {
  for (const title of ["help", "restore"]) {
    const dir = newDir("db");
    const server = await serve({ DB_PATH: `${dir}/store.db` }, { args: ["-title", title] });
    try {
      const home = await (await fetch(`${server.url}/`)).text();
      assert.ok(home.includes(`<title>${title}</title>`), home.slice(0, 300));
    } finally {
      assert.equal(await server.stop(), 0);
    }
  }
});

test("serving: an unknown flag exits 2 with the message and where to find the flags", () => {
  const unknown = run(["--titel", "x"]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /^litepaste: flag provided but not defined: -titel\n/);
  assert.equal(unknown.stdout, "");
});

test("serving: a stray argument is ignored with a warning, as LogPaste (Go) serves on: -showdocs false keeps the docs", async () => {
  const dir = newDir("db");
  const server = await serve({ DB_PATH: `${dir}/store.db` }, { args: ["-showdocs", "false", "-title", "ignored too"] });
  try {
    const home = await (await fetch(`${server.url}/`)).text();
    assert.ok(home.includes("<title>LogPaste</title>"), "flags after the stray argument are not applied");
    assert.ok(home.includes('id="docs-heading"'), "the documentation is shown");
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.match(server.output(), /ignored: false -title ignored too/);
});
