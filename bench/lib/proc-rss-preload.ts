// Preloaded with `node --import` into a measured child process: on exit, writes the
// process's peak resident set size (bytes) to the file named by BENCH_MAX_RSS_FILE.

import { writeFileSync } from "node:fs";

const file = process.env.BENCH_MAX_RSS_FILE;
if (file) {
  // maxRSS is in kibibytes.
  process.on("exit", () => writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)));
}
