// Every scenario, in the order `npm run bench` runs them and docs/benchmarks.md lists them
// (the order: HTTP throughput, replication, restore and cost, memory, start-up).

import type { Scenario } from "../scenario.js";
import { coldStart } from "./cold-start.js";
import { getThroughput } from "./get-throughput.js";
import { memory } from "./memory.js";
import { putReplication } from "./put-replication.js";
import { putSync } from "./put-sync.js";
import { replicationLagScenario } from "./replication-lag.js";
import { restoreScenario } from "./restore.js";
import { storeCostScenario } from "./store-cost.js";
import { uploadLatencyScenario } from "./upload-latency.js";
import { viewerScenario } from "./viewer.js";

export const scenarios: readonly Scenario[] = [
  getThroughput,
  putReplication,
  putSync,
  replicationLagScenario,
  uploadLatencyScenario,
  restoreScenario,
  storeCostScenario,
  memory,
  coldStart,
  viewerScenario,
];
