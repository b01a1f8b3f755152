// Every scenario, in the order `npm run bench` runs them and docs/benchmarks.md lists them.

import type { Scenario } from "../scenario.js";
import { coldStart } from "./cold-start.js";
import { getThroughput } from "./get-throughput.js";
import { memory } from "./memory.js";
import { putReplication } from "./put-replication.js";
import { putSync } from "./put-sync.js";

export const scenarios: readonly Scenario[] = [getThroughput, putReplication, putSync, memory, coldStart];
