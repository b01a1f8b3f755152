// Who this database is, as a replica writer, and which generations it wrote: a record
// beside the database (`<db>.litepaste-writer`) that outlives restarts, crashes included.
//
// `owner` identifies this database's writer across its runs: a lease held by the same
// owner was left by an earlier run on this disk (a restart or a crash) and is taken over at
// once. `generations` are the last few this database replicated to (or was restored
// from) in `replica`: when that replica's newest generation is none of them, someone else
// wrote it. Pointed at another replica, the database starts with no history there.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFileDurably } from "../../internal/durable-file.js";
import { isGenerationId } from "../replica/layout.js";

/** Enough to cover the generations a crash between two of them can leave behind. */
const KEPT_GENERATIONS = 8;

export interface WriterRecordData {
  readonly owner: string;
  /** The replica the generations are in (its description: no credentials). */
  readonly replica: string;
  /** Oldest first. */
  readonly generations: readonly string[];
}

export function writerRecordPathOf(dbPath: string): string {
  return `${dbPath}.litepaste-writer`;
}

function isRecord(value: unknown): value is WriterRecordData {
  const v = value as WriterRecordData | null;
  return (
    typeof v === "object" && v !== null && typeof v.owner === "string" && /^[0-9a-f]{16}$/.test(v.owner) && typeof v.replica === "string" &&
    Array.isArray(v.generations) && v.generations.every((g) => typeof g === "string" && isGenerationId(g))
  );
}

export class WriterRecord {
  private data: WriterRecordData;
  private saved: boolean;

  private constructor(private readonly file: string, replica: string, data: WriterRecordData | null) {
    this.saved = data?.replica === replica;
    this.data = {
      owner: data?.owner ?? randomBytes(8).toString("hex"),
      replica,
      generations: data?.replica === replica ? data.generations : [],
    };
  }

  /** The record of the database at `dbPath` for `replica`; a missing or unreadable one starts afresh (nothing known). */
  static load(dbPath: string, replica: string): WriterRecord {
    const file = writerRecordPathOf(dbPath);
    let data: unknown = null;
    try {
      data = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      // missing or torn: this database has no history as a writer
    }
    return new WriterRecord(file, replica, isRecord(data) ? data : null);
  }

  get owner(): string {
    return this.data.owner;
  }

  /** Generations this database wrote or was restored from; empty when it has no history. */
  get generations(): readonly string[] {
    return this.data.generations;
  }

  /** Adds `generation` (written before anything of it is uploaded) and saves the record. */
  remember(generation: string): void {
    if (this.saved && this.data.generations.at(-1) === generation) return;
    const generations = [...this.data.generations.filter((g) => g !== generation), generation].slice(-KEPT_GENERATIONS);
    this.data = { ...this.data, generations };
    this.save();
  }

  /** Saves the owner before it goes into a lease, so that a crash right after still finds it. */
  ensureSaved(): void {
    if (!this.saved) this.save();
  }

  private save(): void {
    writeFileDurably(this.file, `${JSON.stringify(this.data, null, 2)}\n`);
    this.saved = true;
  }
}
