// Child process: the raw speed a restore is compared with. Lists the replica's objects,
// downloads each with the AWS SDK (configured as litepaste configures it) one after
// another, in key order (the snapshot, then the WAL segments by index and offset), and
// LZ4-decodes it with litepaste's decoder: the snapshot into OUTPUT, the segments into
// OUTPUT-wal. Prints what it did as JSON.
//
//   node restore-baseline.js REPLICA_URL OUTPUT     (credentials from the environment)
//   node restore-baseline.js                        (loads everything and exits: its start-up time)

import fs from "node:fs";
import { pipeline } from "node:stream/promises";
import { createLz4FrameDecoder } from "../../replication/lz4/frame.js";
import { getObjectStream, listGenerationKeys, openStoreSdk } from "./store-sdk.js";

const [url, output] = process.argv.slice(2) as [string, string];
if (url === undefined) process.exit(0);
const sdk = openStoreSdk(url, process.env);
const keys = await listGenerationKeys(sdk);

let compressedBytes = 0;
let decodedBytes = 0;
for (const key of keys) {
  const body = await getObjectStream(sdk, key);
  body.on("data", (chunk: Buffer) => (compressedBytes += chunk.byteLength));
  const decoder = createLz4FrameDecoder();
  decoder.on("data", (chunk: Buffer) => (decodedBytes += chunk.byteLength));
  const target = key.endsWith(".snapshot.lz4") ? output : `${output}-wal`;
  await pipeline(body, decoder, fs.createWriteStream(target, { flags: "a" }));
}
process.stdout.write(`${JSON.stringify({ objects: keys.length, compressedBytes, decodedBytes })}\n`);
