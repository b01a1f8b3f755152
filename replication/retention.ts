// Retention: keep what restores any point inside the window, delete the rest.
//
// Per generation: the newest snapshot older than the window is where a restore to the
// window's oldest moment starts, so it and everything after it stay; older snapshots and
// WAL segments of lower indexes go. Other generations go entirely once all their objects
// are older than the window, but only while the current generation has a snapshot
// (otherwise they may be the only restorable data). The current generation's newest
// snapshot is never deleted: it is either the kept one or newer than it.

import type { Logger } from "pino";
import { GENERATIONS_PREFIX, parseReplicaKey } from "./replica/layout.js";
import type { ReplicaClient, ReplicaObject } from "./replica/client.js";

interface GenerationObjects {
  readonly keys: string[];
  readonly snapshots: Array<{ key: string; index: number; lastModified: number }>;
  readonly segments: Array<{ key: string; index: number }>;
  newest: number;
}

/** The keys retention deletes, given every object of the replica. */
export function planRetention(objects: Iterable<ReplicaObject>, currentGeneration: string, now: number, retentionMs: number): string[] {
  const cutoff = now - retentionMs;
  const generations = new Map<string, GenerationObjects>();
  for (const object of objects) {
    const parsed = parseReplicaKey(object.key);
    if (!parsed) continue; // not ours to judge
    let g = generations.get(parsed.generation);
    if (!g) generations.set(parsed.generation, (g = { keys: [], snapshots: [], segments: [], newest: -Infinity }));
    const lastModified = object.lastModified.getTime();
    g.keys.push(object.key);
    g.newest = Math.max(g.newest, lastModified);
    if (parsed.kind === "snapshot") g.snapshots.push({ key: object.key, index: parsed.index, lastModified });
    else g.segments.push({ key: object.key, index: parsed.index });
  }

  const doomed: string[] = [];
  const currentIsRestorable = (generations.get(currentGeneration)?.snapshots.length ?? 0) > 0;
  for (const [generation, g] of generations) {
    if (generation !== currentGeneration && currentIsRestorable && g.newest < cutoff) {
      doomed.push(...g.keys);
      continue;
    }
    const old = g.snapshots.filter((s) => s.lastModified < cutoff);
    if (old.length === 0) continue;
    const keep = old.reduce((a, b) => (b.index > a.index || (b.index === a.index && b.lastModified > a.lastModified) ? b : a));
    for (const s of g.snapshots) if (s.index < keep.index) doomed.push(s.key);
    for (const w of g.segments) if (w.index < keep.index) doomed.push(w.key);
  }
  return doomed;
}

/** Lists the replica once and deletes what `planRetention` says; returns the deleted keys. */
export async function enforceRetention(client: ReplicaClient, currentGeneration: string, retentionMs: number, logger: Logger): Promise<string[]> {
  const objects: ReplicaObject[] = [];
  for await (const object of client.list(GENERATIONS_PREFIX)) objects.push(object);
  const doomed = planRetention(objects, currentGeneration, Date.now(), retentionMs);
  const batch = 1000; // S3's DeleteObjects limit
  for (let i = 0; i < doomed.length; i += batch) await client.delete(doomed.slice(i, i + batch));
  if (doomed.length > 0) logger.info({ deleted: doomed.length, replica: client.description }, "retention: deleted old replica objects");
  return doomed;
}
