// The app plus its replicator in a process of its own, running the seeded workload, so
// that a test can kill -9 it at any moment. Prints (synchronously, so that a line is out
// before anything else happens) "commit <content hash>" after every write and "acked"
// each time the replica confirmed every write so far.
//
//   node replication-workload-child.js DB_PATH REPLICA_DIR SEED WRITES

import { writeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { FileReplicaClient } from "../../replication/file-client.js";
import { prepareReplicator } from "../../replication/startup.js";
import { openAppDatabase } from "./replication-db.js";
import { testConfig } from "./replication-session.js";
import { testLogger } from "./test-logger.js";
import { contentHash, randomWrite, seededRandom, WORKLOAD_SCHEMA, workloadReplication } from "./workload.js";

const [dbPath, replicaDir, seed, writes] = process.argv.slice(2) as [string, string, string, string];
const say = (line: string) => writeSync(1, `${line}\n`);

const prepared = await prepareReplicator(dbPath, { ...testConfig, ...workloadReplication.config }, testLogger(), new FileReplicaClient(replicaDir), workloadReplication.tuning);
const app = openAppDatabase(dbPath);
app.exec(WORKLOAD_SCHEMA);
const replication = prepared.start();
const random = seededRandom(Number(seed));
say(`commit ${contentHash(app)}`);
for (let i = 0; i < Number(writes); i++) {
  randomWrite(app, random);
  replication.notifyCommit();
  say(`commit ${contentHash(app)}`);
  if (random() < 0.3) {
    await replication.waitUntilReplicated();
    say("acked");
  } else {
    await sleep(Math.floor(random() * 8));
  }
}
await replication.stop(() => app.close());
say("stopped");
