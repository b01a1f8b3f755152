// Object keys of the Litestream v0.3 replica layout, relative to the replica's root:
//
//   generations/<generation>/snapshots/<index>.snapshot.lz4
//   generations/<generation>/wal/<index>_<offset>.wal.lz4
//
// index and offset are lowercase hex, at least 8 digits; readers accept up to 16 (an
// offset past 4 GiB has more than 8).

import { randomBytes } from "node:crypto";

export const GENERATIONS_PREFIX = "generations/";

export type ReplicaKey =
  | { readonly kind: "snapshot"; readonly generation: string; readonly index: number }
  | { readonly kind: "wal"; readonly generation: string; readonly index: number; readonly offset: number };

const GENERATION_PATTERN = /^[0-9a-f]{16}$/;
const KEY_PATTERN = /^generations\/([0-9a-f]{16})\/(?:snapshots\/([0-9a-f]{8,16})\.snapshot\.lz4|wal\/([0-9a-f]{8,16})_([0-9a-f]{8,16})\.wal\.lz4)$/;

export function isGenerationId(s: string): boolean {
  return GENERATION_PATTERN.test(s);
}

/** A new generation id: 16 lowercase hex characters from a crypto-random source. */
export function newGenerationId(): string {
  return randomBytes(8).toString("hex");
}

function checkGeneration(generation: string): string {
  if (!isGenerationId(generation)) throw new Error(`invalid generation id "${generation}": expected 16 lowercase hex characters`);
  return generation;
}

function hex(value: number, what: string): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`invalid ${what} ${value}: expected a non-negative integer`);
  return value.toString(16).padStart(8, "0");
}

export function generationPrefix(generation: string): string {
  return `${GENERATIONS_PREFIX}${checkGeneration(generation)}/`;
}

export function snapshotsPrefix(generation: string): string {
  return `${generationPrefix(generation)}snapshots/`;
}

export function walPrefix(generation: string): string {
  return `${generationPrefix(generation)}wal/`;
}

export function snapshotKey(generation: string, index: number): string {
  return `${snapshotsPrefix(generation)}${hex(index, "WAL index")}.snapshot.lz4`;
}

export function walSegmentKey(generation: string, index: number, offset: number): string {
  return `${walPrefix(generation)}${hex(index, "WAL index")}_${hex(offset, "WAL offset")}.wal.lz4`;
}

function parseHex(digits: string): number | null {
  const value = parseInt(digits, 16);
  return Number.isSafeInteger(value) ? value : null;
}

/** What a key names, or null when it is not a snapshot or WAL segment key. */
export function parseReplicaKey(key: string): ReplicaKey | null {
  const match = KEY_PATTERN.exec(key);
  if (!match) return null;
  const generation = match[1]!;
  if (match[2] !== undefined) {
    const index = parseHex(match[2]);
    return index === null ? null : { kind: "snapshot", generation, index };
  }
  const index = parseHex(match[3]!);
  const offset = parseHex(match[4]!);
  return index === null || offset === null ? null : { kind: "wal", generation, index, offset };
}
