// Child process: the store's own PutObject latency, with the AWS SDK configured as
// litepaste configures it. PUTs `count` objects of `bytes` random bytes one after another
// (after one unmeasured PUT that opens the connection) and prints the latencies (ms) as JSON.
//
//   node store-put-baseline.js REPLICA_URL COUNT BYTES     (credentials from the environment)

import { PutObjectCommand } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { openStoreSdk } from "./store-sdk.js";

const [url, count, bytes] = process.argv.slice(2);
const { s3, bucket, prefix } = openStoreSdk(url!, process.env);
const latencies: number[] = [];
for (let i = 0; i <= Number(count); i++) {
  const body = randomBytes(Number(bytes));
  const started = performance.now();
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}baseline/${i}`, Body: body, ContentLength: body.byteLength }));
  if (i > 0) latencies.push(performance.now() - started);
}
process.stdout.write(`${JSON.stringify(latencies)}\n`);
