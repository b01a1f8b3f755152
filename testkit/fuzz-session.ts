// One fuzz run against a real server process, as test/fuzz.test.ts and `npm run fuzz` both
// run it: start `litepaste` behind a pretend proxy, store some pastes, send seeded random
// requests over a few raw TCP connections (several pipelined per connection, see
// randomBatch), then check that the server is alive and healthy, the pastes are intact,
// it stops cleanly and its database passes integrity_check. What went wrong is returned,
// never thrown, so that a long run reports every kind of finding at once.

import path from "node:path";
import Database from "better-sqlite3";
import { randomBatch } from "./http-fuzz.js";
import { serveCli } from "./litepaste-process.js";
import { health, randomPasteBody, upload } from "./paste-client.js";
import { rawPipeline } from "./raw-http.js";
import { comparePastes } from "./replica-check.js";
import { HANG_TIMEOUT_MS } from "./wait.js";
import { seededRandom } from "./workload.js";

export interface FuzzOptions {
  readonly requests: number;
  readonly seed: number;
  /** Where the server's database goes. */
  readonly dataDir: string;
  /** Connections open at once. */
  readonly connections?: number;
  /** A connection without its answers this long after its requests went out is hung. */
  readonly hangTimeoutMs?: number;
  /** No new connection starts after this long: the run ends early, and says so. */
  readonly maxMs?: number;
}

export interface FuzzResult {
  readonly seed: number;
  /** Requests whose outcome was judged (all of them unless the run ended early). */
  readonly sent: number;
  readonly seconds: number;
  readonly stoppedEarly: boolean;
  /** Outcomes by status code or kind ("closed": no answer because the server closed first). */
  readonly tally: ReadonlyMap<string, number>;
  readonly fiveXx: number;
  readonly hung: number;
  readonly garbled: number;
  /** The server exited during the run (its exit code or signal), or null. */
  readonly crashed: string | null;
  /** Everything else that failed after the run: health, pastes, shutdown, integrity. */
  readonly afterwards: readonly string[];
  /** The first failures, each with the request that caused it. */
  readonly examples: readonly string[];
  readonly serverLogTail: string;
}

const STORED_PASTES = 30;
const MAX_EXAMPLES = 50;
const DEFAULT_CONNECTIONS = 4;

export async function runFuzzSession(options: FuzzOptions): Promise<FuzzResult> {
  const random = seededRandom(options.seed);
  const hangTimeoutMs = options.hangTimeoutMs ?? HANG_TIMEOUT_MS;
  const dbPath = path.join(options.dataDir, "store.db");
  // Behind a proxy, so that the proxy headers the generator sends reach the client-address parser.
  const server = await serveCli({ DB_PATH: dbPath, LOG_LEVEL: "info", LP_BEHIND_PROXY: "1" });
  try {
    const port = Number(new URL(server.url).port);
    const stored = new Map<string, Buffer>();
    for (let i = 0; i < STORED_PASTES; i++) {
      const body = randomPasteBody(random);
      const answer = await upload(server.url, body);
      if (answer.status !== 200) throw new Error(`storing the fuzz's own pastes failed: ${answer.status} ${answer.text}`);
      stored.set(answer.id!, body);
    }
    const ids = [...stored.keys()];

    const tally = new Map<string, number>();
    const examples: string[] = [];
    let sent = 0;
    let fiveXx = 0;
    let hung = 0;
    let garbled = 0;
    const started = Date.now();
    const deadline = options.maxMs === undefined ? Infinity : started + options.maxMs;
    let stoppedEarly = false;
    let issued = 0;
    const note = (example: string) => examples.length < MAX_EXAMPLES && examples.push(example);
    const connection = async () => {
      while (issued < options.requests && server.child.exitCode === null && server.child.signalCode === null) {
        if (Date.now() > deadline) {
          stoppedEarly = true;
          return;
        }
        // Each batch draws from a generator of its own, seeded in turn: the k-th batch is the
        // same in every run of a seed, whichever connection happens to send it.
        const batch = randomBatch(seededRandom(Math.floor(random() * 2 ** 32)), ids).slice(0, options.requests - issued);
        issued += batch.length;
        const outcomes = await rawPipeline(port, batch, { timeoutMs: hangTimeoutMs });
        outcomes.forEach((outcome, i) => {
          const where = `request ${i + 1} of ${batch.length} on its connection: ${batch[i]!.summary}`;
          sent++;
          const key = outcome.kind === "response" ? String(outcome.status) : outcome.kind;
          tally.set(key, (tally.get(key) ?? 0) + 1);
          if (outcome.kind === "response" && outcome.status >= 500) {
            fiveXx++;
            note(`${outcome.status} ${outcome.body.toString().slice(0, 200)} <- ${where}`);
          } else if (outcome.kind === "garbled" || outcome.kind === "timeout") {
            if (outcome.kind === "garbled") garbled++;
            else hung++;
            note(`${outcome.kind}: ${JSON.stringify(outcome.bytes.subarray(0, 200).toString("latin1"))} <- ${where}`);
          }
        });
      }
    };
    await Promise.all(Array.from({ length: options.connections ?? DEFAULT_CONNECTIONS }, connection));
    const seconds = (Date.now() - started) / 1000;
    const crashed = server.child.exitCode !== null || server.child.signalCode !== null ? String(server.child.exitCode ?? server.child.signalCode) : null;

    const afterwards: string[] = [];
    if (crashed === null) {
      const h = await health(server.url).catch((err: Error) => ({ status: `no answer (${err.message})` }));
      if (h.status !== "ok") afterwards.push(`/healthz says ${h.status}`);
      for (const [id, body] of stored) {
        const res = await fetch(`${server.url}/${id}`);
        const got = Buffer.from(await res.arrayBuffer());
        if (res.status !== 200 || !got.equals(body)) afterwards.push(`paste ${id} answered ${res.status} with ${got.length} bytes, not its ${body.length}`);
      }
      const code = await server.stop();
      if (code !== 0) afterwards.push(`the server exited ${code} on SIGTERM`);
    }
    const db = new Database(dbPath, { readonly: true });
    try {
      const integrity = db.pragma("integrity_check", { simple: true });
      if (integrity !== "ok") afterwards.push(`integrity_check: ${String(integrity)}`);
    } finally {
      db.close();
    }
    const { missing, different } = comparePastes(dbPath, stored);
    if (missing.length + different.length > 0) afterwards.push(`in the database: missing ${missing.join(" ") || "none"}, different ${different.join(" ") || "none"}`);

    return { seed: options.seed, sent, seconds, stoppedEarly, tally, fiveXx, hung, garbled, crashed, afterwards, examples, serverLogTail: server.output().slice(-4000) };
  } finally {
    await server.crash();
  }
}

/** Every finding of a run, one line each; empty when the run is clean. */
export function fuzzFindings(result: FuzzResult): string[] {
  return [
    ...(result.crashed === null ? [] : [`the server exited during the run (${result.crashed})`]),
    ...(result.fiveXx > 0 ? [`${result.fiveXx} 5xx answers`] : []),
    ...(result.hung > 0 ? [`${result.hung} hung connections (no answer within the hang timeout)`] : []),
    ...(result.garbled > 0 ? [`${result.garbled} answers that are not HTTP`] : []),
    ...result.afterwards,
  ];
}

/** One line: seed, counts, time. */
export function fuzzSummary(result: FuzzResult): string {
  const tally = JSON.stringify(Object.fromEntries([...result.tally].sort()));
  return `seed ${result.seed}: ${result.sent} requests in ${result.seconds.toFixed(1)} s${result.stoppedEarly ? " (stopped at the time bound)" : ""}; ` +
    `crashes ${result.crashed === null ? 0 : 1}, 5xx ${result.fiveXx}, hung ${result.hung}, garbled ${result.garbled}; outcomes ${tally}`;
}
