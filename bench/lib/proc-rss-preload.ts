// Preloaded with `node --import` into a measured child process: on exit, writes the
// process's peak resident set size (bytes) to the file named by BENCH_MAX_RSS_FILE.
//
// From VmHWM in /proc/self/status, not process.resourceUsage().maxRSS: Linux carries
// ru_maxrss over from the forked copy of the parent into the exec'd child, so a child of a
// bench process that had just built a 200 MB database reported the parent's 460 MB whatever
// it did itself. VmHWM belongs to the child's own address space, made new at exec.

import { readFileSync, writeFileSync } from "node:fs";

function peakRssBytes(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) return Number(hwm[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS * 1024; // kibibytes
}

const file = process.env.BENCH_MAX_RSS_FILE;
if (file) process.on("exit", () => writeFileSync(file, String(peakRssBytes())));
