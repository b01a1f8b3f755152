// The replication scenarios (helper B2's part of `npm run bench`), in the order they run.

import type { Scenario } from "../scenario.js";
import { replicationLagScenario } from "./replication-lag.js";
import { restoreScenario } from "./restore.js";
import { storeCostScenario } from "./store-cost.js";
import { uploadLatencyScenario } from "./upload-latency.js";

export const replicationScenarios: Scenario[] = [replicationLagScenario, uploadLatencyScenario, restoreScenario, storeCostScenario];
