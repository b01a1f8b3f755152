// What a replica holds, from one listing: generations, their snapshots and WAL segments.
// Restore plans from it and the inspection commands print it.

import { GENERATIONS_PREFIX, parseReplicaKey } from "./layout.js";
import type { ReplicaClient } from "./client.js";

export interface SnapshotInfo {
  readonly generation: string;
  readonly index: number;
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

export interface WalSegmentInfo {
  readonly generation: string;
  readonly index: number;
  readonly offset: number;
  readonly key: string;
  /** Compressed size: the uncompressed length is known only once the segment is decoded. */
  readonly size: number;
  readonly lastModified: Date;
}

export interface GenerationInfo {
  readonly id: string;
  /** By index, then lastModified. */
  readonly snapshots: readonly SnapshotInfo[];
  /** By index, then offset. */
  readonly walSegments: readonly WalSegmentInfo[];
  /** The oldest and newest lastModified of the generation's objects. */
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface ReplicaSummary {
  readonly description: string;
  /** By id. */
  readonly generations: readonly GenerationInfo[];
}

/** Lists the replica once. Objects outside the layout are ignored. */
export async function summarizeReplica(client: ReplicaClient): Promise<ReplicaSummary> {
  const byGeneration = new Map<string, { snapshots: SnapshotInfo[]; walSegments: WalSegmentInfo[] }>();
  for await (const object of client.list(GENERATIONS_PREFIX)) {
    const parsed = parseReplicaKey(object.key);
    if (!parsed) continue;
    let entry = byGeneration.get(parsed.generation);
    if (!entry) byGeneration.set(parsed.generation, (entry = { snapshots: [], walSegments: [] }));
    const common = { generation: parsed.generation, key: object.key, size: object.size, lastModified: object.lastModified };
    if (parsed.kind === "snapshot") entry.snapshots.push({ ...common, index: parsed.index });
    else entry.walSegments.push({ ...common, index: parsed.index, offset: parsed.offset });
  }
  const generations = [...byGeneration].map(([id, { snapshots, walSegments }]): GenerationInfo => {
    snapshots.sort((a, b) => a.index - b.index || a.lastModified.getTime() - b.lastModified.getTime());
    walSegments.sort((a, b) => a.index - b.index || a.offset - b.offset);
    let createdAt = Infinity;
    let updatedAt = -Infinity;
    for (const object of [...snapshots, ...walSegments]) {
      createdAt = Math.min(createdAt, object.lastModified.getTime());
      updatedAt = Math.max(updatedAt, object.lastModified.getTime());
    }
    return { id, snapshots, walSegments, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) };
  });
  generations.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { description: client.description, generations };
}

/**
 * The generation whose newest object is newest (ties: the greater id), counting only
 * objects at or before `timestamp` when one is given.
 */
export function latestGeneration(summary: ReplicaSummary, timestamp?: Date): GenerationInfo | undefined {
  let best: { generation: GenerationInfo; newest: number } | undefined;
  for (const generation of summary.generations) {
    let newest = -Infinity;
    for (const object of [...generation.snapshots, ...generation.walSegments]) {
      const t = object.lastModified.getTime();
      if (timestamp === undefined || t <= timestamp.getTime()) newest = Math.max(newest, t);
    }
    if (newest === -Infinity) continue;
    if (!best || newest >= best.newest) best = { generation, newest };
  }
  return best?.generation;
}

/** The id of the generation a restore would pick, or undefined when the replica is empty. */
export async function findLatestGeneration(client: ReplicaClient): Promise<string | undefined> {
  return latestGeneration(await summarizeReplica(client))?.id;
}
