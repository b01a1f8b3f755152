// Page-exact images of the database, for snapshots.
//
// A snapshot must be page-exact because restore applies WAL frames on top of it by page
// number (VACUUM INTO renumbers pages, so it would not do). The image is the database file,
// read through the never-closed descriptor (./database-file.ts), overlaid with the newest
// committed version of each page in the current WAL round. It takes no write lock. While it
// is read, a read transaction on the replicator's snapshot connection pins the database:
//   - if that transaction reads from the WAL (a read mark), no checkpoint backfills frames
//     past the mark, and every frame up to the mark is in the overlay, which was read after
//     the transaction began: pages the file gains from a backfill are overlaid anyway;
//   - if everything was already backfilled when it began (read mark 0), no checkpoint can
//     backfill anything until it ends, so the file does not change at all.
// The overlay is held in memory (one copy per distinct page in the round, which the
// checkpoint threshold keeps small), so a WAL restart while the image streams out does not
// matter. Memory does not grow with the database size.

import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type Database from "better-sqlite3";
import { databaseDescriptor, readDatabaseBytes } from "./sqlite/database-file.js";
import { createLz4FrameEncoder } from "./lz4/frame.js";
import type { ReplicaClient } from "./replica/client.js";
import { readWalHeader, readWalTail, walPathOf } from "./sqlite/wal-tail.js";
import { WAL_FRAME_HEADER_SIZE, WAL_HEADER_SIZE } from "./sqlite/wal.js";

export interface DatabaseImage {
  /** Header of the WAL round the image is part of; null when there was no WAL. */
  readonly walHeader: Buffer | null;
  /** The image holds that round up to this offset (the end of a commit frame), or 0. */
  readonly walOffset: number;
  readonly pageSize: number;
  readonly pageCount: number;
  /** The image's bytes, page 1 first. Read it once. */
  pages(): Readable;
  /** Ends the read transaction; call once the pages have been read (or on failure). */
  release(): void;
}

const PAGES_PER_CHUNK = 64;

/**
 * Captures an image of the database as of the last commit in `-wal`. Synchronous, so
 * that no write of this process can slip between pinning and reading the WAL.
 * `db` is a connection of the replicator's that is not in a transaction.
 */
export function captureDatabaseImage(db: Database.Database, dbPath: string): DatabaseImage {
  db.exec("BEGIN");
  try {
    db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get();
    const fd = databaseDescriptor(dbPath);
    const walPath = walPathOf(dbPath);
    const round = readWalTail(walPath, { index: 0, header: null, offset: 0, checksum: [0, 0] }, { nextRoundSalt1: null, maxBytes: Infinity });
    const overlay = new Map<number, Buffer>();
    let pageSize: number;
    let pageCount: number;
    if (round) {
      pageSize = round.pageSize;
      pageCount = round.pageCount;
      const frameSize = WAL_FRAME_HEADER_SIZE + pageSize;
      for (let off = WAL_HEADER_SIZE; off < round.data.length; off += frameSize) {
        const page = round.data.subarray(off + WAL_FRAME_HEADER_SIZE, off + frameSize);
        overlay.set(round.data.readUInt32BE(off), Buffer.from(page));
      }
    } else {
      pageSize = db.pragma("page_size", { simple: true }) as number;
      pageCount = db.pragma("page_count", { simple: true }) as number;
    }
    const walHeader = round?.from.header ?? readWalHeader(walPath)?.bytes ?? null;
    return {
      walHeader,
      walOffset: round?.to.offset ?? 0,
      pageSize,
      pageCount,
      pages: () => Readable.from(pageChunks(fd, dbPath, pageSize, pageCount, overlay)),
      release: () => {
        if (db.inTransaction) db.exec("COMMIT");
      },
    };
  } catch (err) {
    if (db.inTransaction) db.exec("COMMIT");
    throw err;
  }
}

async function* pageChunks(fd: number, dbPath: string, pageSize: number, pageCount: number, overlay: Map<number, Buffer>): AsyncGenerator<Buffer> {
  for (let first = 1; first <= pageCount; first += PAGES_PER_CHUNK) {
    const count = Math.min(PAGES_PER_CHUNK, pageCount - first + 1);
    const chunk = Buffer.alloc(count * pageSize);
    const fromFile = await readDatabaseBytes(fd, chunk.length, (first - 1) * pageSize);
    fromFile.copy(chunk);
    for (let i = 0; i < count; i++) {
      const page = overlay.get(first + i);
      if (page) page.copy(chunk, i * pageSize);
      else if (fromFile.length < (i + 1) * pageSize) {
        throw new Error(`snapshot of ${dbPath}: page ${first + i} is neither in the WAL nor in the database file (${fromFile.length + (first - 1) * pageSize} bytes)`);
      }
    }
    yield chunk;
  }
}

/** Uploads the image as one LZ4 frame, streamed; `signal` aborts it (the upload then rejects). */
export async function uploadDatabaseImage(client: ReplicaClient, key: string, image: DatabaseImage, signal?: AbortSignal): Promise<void> {
  const source = image.pages();
  const body = createLz4FrameEncoder();
  // pipeline() handles both streams' errors; a failure ends up in putStream's rejection.
  const piped = pipeline(source, body).then(
    () => null,
    (err: unknown) => err,
  );
  const abort = () => source.destroy(new Error(`upload of ${key} aborted`));
  signal?.addEventListener("abort", abort);
  try {
    if (signal?.aborted) abort();
    await client.putStream(key, body);
  } finally {
    signal?.removeEventListener("abort", abort);
    source.destroy();
  }
  const pipeError = await piped;
  if (pipeError) throw pipeError;
}
