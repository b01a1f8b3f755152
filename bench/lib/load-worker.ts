// The load generator process (see load.ts): reads LoadOptions as JSON on stdin, runs
// autocannon, prints a LoadResult as JSON on stdout.

import autocannon from "autocannon";
import type { LoadOptions, LoadResult } from "./load.js";

async function readStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

const options = JSON.parse(await readStdin()) as LoadOptions;
const result = await autocannon({
  url: options.url,
  connections: options.connections,
  duration: options.durationS,
  requests: options.requests.map((r) => ({ method: r.method, path: r.path, body: r.body })),
});
const failed = result.errors + result.timeouts + result.non2xx;
if (failed > 0) {
  const codes = JSON.stringify(result.statusCodeStats);
  process.stderr.write(`${failed} of ${result.requests.sent} requests failed (errors ${result.errors}, timeouts ${result.timeouts}, status codes ${codes})\n`);
  process.exit(1);
}
const out: LoadResult = {
  requestsPerSec: result["2xx"] / result.duration,
  requests: result["2xx"],
  bytesPerSec: result.throughput.average,
  latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average },
  durationS: result.duration,
};
process.stdout.write(JSON.stringify(out));
