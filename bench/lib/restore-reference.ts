// Child process: the reference restore, Litestream v0.3's algorithm done with the `lz4` and
// `sqlite3` command-line tools. Lists the replica's newest generation with the AWS SDK
// (configured as litepaste configures it), streams the snapshot through `lz4 -d` into
// OUTPUT, then for each WAL index streams that index's segments, in offset order, through
// one `lz4 -d` (which reads concatenated frames) into OUTPUT-wal and lets
// `sqlite3 OUTPUT "PRAGMA wal_checkpoint(TRUNCATE)"` apply it. No checks beyond what the
// tools do themselves. Prints what it did as JSON, with the peak RSS of the largest tool
// process (through GNU time), which the preload module cannot see.
//
//   node restore-reference.js REPLICA_URL OUTPUT     (credentials from the environment)
//   node restore-reference.js                        (loads everything and exits: its start-up time)

import { spawn } from "node:child_process";
import fs from "node:fs";
import { once } from "node:events";
import { getObjectStream, listGenerationKeys, openStoreSdk } from "./store-sdk.js";

const [url, output] = process.argv.slice(2) as [string, string];
if (url === undefined) process.exit(0);
const sdk = openStoreSdk(url, process.env);
const { prefix } = sdk;

const keys = await listGenerationKeys(sdk);
const generation = keys.at(-1)?.slice(`${prefix}generations/`.length).split("/")[0];
const ofGeneration = keys.filter((k) => k.startsWith(`${prefix}generations/${generation}/`));
const snapshotKey = ofGeneration.filter((k) => k.endsWith(".snapshot.lz4")).at(-1);
if (!snapshotKey) throw new Error(`no snapshot in generation ${generation}`);
const snapshotIndex = parseInt(snapshotKey.split("/").at(-1)!, 16);
const byIndex = new Map<number, string[]>();
for (const key of ofGeneration.filter((k) => k.endsWith(".wal.lz4"))) {
  const [index, offset] = key.split("/").at(-1)!.replace(".wal.lz4", "").split("_").map((h) => parseInt(h, 16)) as [number, number];
  if (index < snapshotIndex) continue;
  byIndex.set(index, [...(byIndex.get(index) ?? []), `${offset.toString(16).padStart(16, "0")} ${key}`]);
}

let toolPeakRss = 0;
const rssFile = `${output}.tool-rss`;

/** Runs a tool under GNU time, with `objects` downloaded one after another into its standard input. */
async function tool(args: readonly string[], objects: readonly string[] = []): Promise<void> {
  const child = spawn("/usr/bin/time", ["-f", "%M", "-o", rssFile, ...args], { stdio: ["pipe", "ignore", "inherit"] });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  for (const key of objects) {
    for await (const chunk of await getObjectStream(sdk, key)) {
      if (!child.stdin.write(chunk)) await once(child.stdin, "drain");
    }
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`${args.join(" ")} exited with ${code}`);
  toolPeakRss = Math.max(toolPeakRss, Number(fs.readFileSync(rssFile, "utf8").trim()) * 1024);
}

await tool(["lz4", "-d", "-q", "-f", "-", output], [snapshotKey]);
for (const index of [...byIndex.keys()].sort((a, b) => a - b)) {
  const segments = byIndex.get(index)!.sort().map((s) => s.split(" ")[1]!);
  await tool(["lz4", "-d", "-q", "-f", "-", `${output}-wal`], segments);
  await tool(["sqlite3", output, "PRAGMA wal_checkpoint(TRUNCATE);"]);
}
fs.rmSync(rssFile, { force: true });
process.stdout.write(`${JSON.stringify({ indexes: byIndex.size, toolPeakRssBytes: toolPeakRss })}\n`);
