// The crash cycle, shared by test/crash-*.test.ts and `npm run soak`: the real server under
// concurrent uploads, `kill -9` at a random moment, the replica restored into an empty
// directory, every paste the server acknowledged (and was bound to keep) compared byte for
// byte. Between kills the server restarts alternately on the same disk (crash recovery: a
// new generation from the local database) and on an empty disk (an ephemeral container:
// it restores from the replica), so acknowledged pastes accumulate across kills and each
// restore must still hold everything required before.
//
// Which acknowledgements bind: in sync mode, every 200. In async mode, every 200 answered
// more than (sync interval + one upload) before the kill, one upload being the slowest
// of this cycle's paste uploads and of S3 PUTs timed alongside them (a probe writing a
// small object beside the replica): the replicator's upload competes for the same CPU and
// the same s3rver. Two allowances: a sync already in flight when the paste commits does
// not hold it, so when an upload outlasts the interval the paste waits for that one and
// then its own (max(interval, upload) + upload); and SCHEDULING_SLACK_MS for timers and
// event loops delayed on a loaded two-core CI machine (seen: 75 ms past the plain window).
// A paste not acknowledged may or may not be there.

import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ReplicaClient } from "../replication/replica/client.js";
import { openReplicaClient } from "../replication/replica/url.js";
import { serveCli, type ServedProcess } from "./litepaste-process.js";
import { randomPasteBody, upload, waitForHealth } from "./paste-client.js";
import { comparePastes, restoreToEmptyDir } from "./replica-check.js";
import type { S3rverHandle } from "./s3rver.js";
import { until } from "./wait.js";
import { seededRandom } from "./workload.js";
import { freshDir } from "./scratch.js";

const SCHEDULING_SLACK_MS = 150;
/** Acknowledgements bound before each kill, at the least (twice what crash-test.ts requires on average). */
export const MIN_REQUIRED_PER_KILL = 20;

export type SyncMode = "sync" | "async";

export interface CrashRunOptions {
  readonly mode: SyncMode;
  readonly kills: number;
  readonly seed: number;
  readonly s3: S3rverHandle;
  /** An empty directory for the data disk and the check restores. */
  readonly workDir: string;
  /** The replica's path in the bucket (a fresh one per run). */
  readonly prefix: string;
  readonly clients?: number;
  readonly syncIntervalMs?: number;
  /** Stop early (after the kill in progress) once this time has passed. */
  readonly deadline?: number;
  readonly log?: (line: string) => void;
}

export interface LostPaste {
  readonly id: string;
  readonly kill: number;
  readonly how: "missing" | "different bytes";
  /** How long before the kill the 200 arrived; null when it was before an earlier kill. */
  readonly acknowledgedMsBeforeKill: number | null;
}

export interface CrashTally {
  readonly mode: SyncMode;
  readonly seed: number;
  kills: number;
  /** 200 answers received. */
  acknowledged: number;
  /** Distinct acknowledged pastes that a restore was required to hold. */
  required: number;
  /** Required pastes looked up in restores, summed over kills (each is checked after every later kill). */
  verifications: number;
  /** Async mode: acknowledged inside the window before a kill, so allowed to be missing; and of those, missing. */
  inWindow: number;
  inWindowMissing: number;
  /** Answers other than 200, by status (a 500 is a bug; a 503 in sync mode means the replica was slow). */
  refusals: Record<string, number>;
  /** Async mode: the widest window used (sync interval + one upload), in ms. */
  widestWindowMs: number;
  lost: LostPaste[];
}

interface Ack {
  readonly id: string;
  readonly body: Buffer;
  readonly answeredAt: number;
}

export async function runCrashCycles(options: CrashRunOptions): Promise<CrashTally> {
  const { mode, s3, workDir, prefix, log = () => {} } = options;
  const syncIntervalMs = options.syncIntervalMs ?? 200;
  const clients = options.clients ?? 4;
  const random = seededRandom(options.seed);
  const replicaUrl = s3.url(prefix);
  const probeClient = openReplicaClient(s3.url(`${prefix}-probe`), s3.env);
  const dataDir = path.join(workDir, "data");
  const env = {
    ...s3.env,
    DB_PATH: path.join(dataDir, "store.db"),
    DB_REPLICA_URL: replicaUrl,
    DB_SYNC_MODE: mode,
    DB_SYNC_INTERVAL: `${syncIntervalMs}ms`,
    DB_SYNC_TIMEOUT: "10s",
    // A start on an empty disk is a new writer: it waits for the killed one's lease to expire.
    DB_LEASE_TTL: "2s",
  };
  const tally: CrashTally = {
    mode, seed: options.seed, kills: 0, acknowledged: 0, required: 0, verifications: 0,
    inWindow: 0, inWindowMissing: 0, refusals: {}, widestWindowMs: 0, lost: [],
  };
  /** Pastes every later restore must hold: required ones, and any acknowledged one a restore has shown. */
  const kept = new Map<string, Buffer>();

  for (let cycle = 0; cycle < options.kills; cycle++) {
    if (options.deadline !== undefined && Date.now() > options.deadline) break;
    // Cycle 0 starts on an empty disk and an empty replica; then same disk, empty disk, …
    const emptyDisk = cycle % 2 === 0;
    if (emptyDisk) fs.rmSync(dataDir, { recursive: true, force: true });
    const server = await serveCli(env);
    let acks: Ack[];
    let killAt: number;
    let slowestUploadMs: number;
    try {
      // The async bound holds once the generation's first snapshot is in the replica.
      await waitForHealth(server.url, "a replication generation", (h) => h.replication?.generation != null);
      // The kill comes once a random number of acknowledgements bind (counted, so a slow
      // machine does the same work), then at a random point of the sync cycle.
      const target = MIN_REQUIRED_PER_KILL + Math.floor(random() * 150);
      const binding = (list: readonly Ack[], slowest: number) => {
        const windowMs = windowFor(mode, syncIntervalMs, slowest);
        return list.filter((a) => Date.now() - a.answeredAt > windowMs).length;
      };
      ({ acks, killAt, slowestUploadMs } = await loadThenKill(server, clients, random, probeClient, tally, {
        what: `${target} acknowledged pastes the restore must hold`,
        ready: (list, slowest) => binding(list, slowest) >= target,
        thenMs: Math.floor(random() * syncIntervalMs),
      }));
    } catch (err) {
      server.child.kill("SIGKILL");
      throw new Error(`${(err as Error).message}\n--- server output ---\n${server.output().slice(-4000)}`, { cause: err });
    }
    tally.kills++;
    tally.acknowledged += acks.length;

    const windowMs = windowFor(mode, syncIntervalMs, slowestUploadMs);
    tally.widestWindowMs = Math.max(tally.widestWindowMs, windowMs);
    const restoreDir = freshDir("restore", workDir);
    try {
      const restored = await restoreToEmptyDir(replicaUrl, s3.env, restoreDir);
      const binds = (a: Ack) => mode === "sync" || killAt - a.answeredAt > windowMs;
      const bound = acks.filter(binds);
      const inWindow = acks.filter((a) => !binds(a));
      for (const a of bound) if (!kept.has(a.id)) tally.required++;
      for (const a of bound) kept.set(a.id, a.body);
      tally.verifications += kept.size;

      const required = comparePastes(restored.dbPath, kept);
      const answeredAt = new Map(acks.map((a) => [a.id, a.answeredAt]));
      const lose = (id: string, how: LostPaste["how"]) => {
        tally.lost.push({ id, kill: tally.kills, how, acknowledgedMsBeforeKill: answeredAt.has(id) ? killAt - answeredAt.get(id)! : null });
        kept.delete(id); // counted once
      };
      for (const id of required.missing) lose(id, "missing");
      for (const id of required.different) lose(id, "different bytes");

      const optional = comparePastes(restored.dbPath, inWindow.map((a) => [a.id, a.body] as const));
      for (const id of optional.different) lose(id, "different bytes");
      tally.inWindow += inWindow.length;
      tally.inWindowMissing += optional.missing.length;
      // Whatever a restore holds, every later start continues from it or from a superset (the local disk).
      const replicated = new Set(optional.equal);
      for (const a of inWindow) if (replicated.has(a.id)) kept.set(a.id, a.body);

      log(
        `${mode} kill ${tally.kills}/${options.kills} (${emptyDisk ? "empty" : "same"} disk): ` +
          `${acks.length} acknowledged, ${required.equal.length}/${required.equal.length + required.missing.length + required.different.length} required pastes in the restore of generation ${restored.generation}` +
          (mode === "async" ? `, window ${windowMs} ms: ${inWindow.length} inside, ${optional.missing.length} of them not replicated` : "") +
          `, lost ${required.missing.length + required.different.length + optional.different.length}`,
      );
    } finally {
      fs.rmSync(restoreDir, { recursive: true, force: true });
    }
  }
  return tally;
}

/** How long before a kill an async acknowledgement may be unreplicated (see the top of this file); 0 in sync mode. */
function windowFor(mode: SyncMode, syncIntervalMs: number, slowestUploadMs: number): number {
  return mode === "async" ? Math.max(syncIntervalMs, slowestUploadMs) + slowestUploadMs + SCHEDULING_SLACK_MS : 0;
}

/** When loadThenKill kills: once `ready` holds for the answers so far, then `thenMs` later. */
interface KillCondition {
  readonly what: string;
  ready(acks: readonly Ack[], slowestUploadMs: number): boolean;
  readonly thenMs: number;
}

/** K clients upload until the kill; a probe times S3 PUTs meanwhile. */
async function loadThenKill(
  server: ServedProcess,
  clients: number,
  random: () => number,
  probeClient: ReplicaClient,
  tally: CrashTally,
  when: KillCondition,
): Promise<{ acks: Ack[]; killAt: number; slowestUploadMs: number }> {
  const acks: Ack[] = [];
  let slowestUploadMs = 0;
  let killed = false;
  const client = async () => {
    while (!killed) {
      const body = randomPasteBody(random);
      let answer;
      try {
        answer = await upload(server.url, body);
      } catch {
        return; // no answer: the server is gone (or going); this paste may or may not be stored
      }
      slowestUploadMs = Math.max(slowestUploadMs, answer.ms);
      if (answer.status === 200) acks.push({ id: answer.id!, body, answeredAt: answer.answeredAt });
      else tally.refusals[answer.status] = (tally.refusals[answer.status] ?? 0) + 1;
    }
  };
  const probe = async () => {
    for (let n = 0; !killed; n++) {
      const started = Date.now();
      await probeClient.put(`probe/${n % 4}`, Buffer.alloc(4096, n));
      slowestUploadMs = Math.max(slowestUploadMs, Date.now() - started);
      await sleep(100);
    }
  };
  const running = [...Array.from({ length: clients }, client), probe()];
  let killAt: number;
  try {
    await until(when.what, () => when.ready(acks, slowestUploadMs), { pollMs: 20 });
    await sleep(when.thenMs);
    killAt = Date.now();
    await server.crash();
  } finally {
    killed = true;
  }
  await Promise.all(running);
  return { acks, killAt, slowestUploadMs };
}
