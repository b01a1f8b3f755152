// The paste service: what a route asks of pastes. Saving checks the body rules, draws a
// fresh id (again when one is taken), stores the bytes and, in sync mode, waits until the
// replica has them. Every way saving can fail is an error type of its own; the routes
// decide how each is answered.

import type { Logger } from "pino";
import type { Metrics } from "../metrics.js";
import { createPasteCache } from "./cache.js";
import { preparePaste, type Paste } from "./paste.js";
import { isBlank } from "./paste-body.js";
import { newPasteId } from "./paste-id.js";
import type { Store } from "./store.js";

/** Ids drawn before giving up: among 62^8 ids one collision is rare already, five in a row mean the ids are not random. */
export const DEFAULT_SAVE_ATTEMPTS = 5;

/** The body is empty once white space is trimmed, as LogPaste counts it. */
export class EmptyPasteError extends Error {
  override name = "EmptyPasteError";
  constructor() {
    super("empty body");
  }
}

export class PasteTooLargeError extends Error {
  override name = "PasteTooLargeError";
  constructor(readonly limitBytes: number) {
    super(`the paste is larger than ${limitBytes} bytes`);
  }
}

/**
 * The database refused the write; SQLite rolled the transaction back, so stored pastes are
 * untouched and reads keep working. `reason` says what the operator must fix.
 */
export class StorageError extends Error {
  override name = "StorageError";
  constructor(readonly reason: "disk-full" | "unwritable" | "failed", options: ErrorOptions) {
    super(`can't save entry (${reason})`, options);
  }
}

/** Every id drawn was taken. */
export class NoFreeIdError extends Error {
  override name = "NoFreeIdError";
  constructor(attempts: number) {
    super(`no free paste id in ${attempts} attempts`);
  }
}

/** Sync mode: the paste is stored locally (under `id`) but the replica has not confirmed it. */
export abstract class NotReplicatedError extends Error {
  constructor(readonly id: string, options: ErrorOptions) {
    super(`paste ${id} was stored locally but is not replicated yet`, options);
  }
}

/** The replica did not confirm in time (unreachable or slow); it will once it is reachable. */
export class ReplicaUnconfirmedError extends NotReplicatedError {
  override name = "ReplicaUnconfirmedError";
}

/** Replication has stopped because another server writes the same replica. */
export class WriterConflictError extends NotReplicatedError {
  override name = "WriterConflictError";
}

/** Sync mode's part of replication. */
export interface SyncReplication {
  /** Resolves once every commit made so far is in the replica; rejects when it could not be confirmed in time. */
  waitUntilReplicated(): Promise<void>;
  /** True once replication has stopped because another server writes the same replica. */
  writerConflict(): boolean;
}

export interface PasteServiceDeps {
  readonly store: Store;
  readonly metrics: Pick<Metrics, "pasteStored">;
  readonly logger: Logger;
  readonly maxPasteBytes: number;
  /** Bytes of hot pastes kept in memory (./cache.ts); 0: every read goes to the store. */
  readonly cacheBytes: number;
  /** Present in sync mode only: a paste is saved once the replica has it. */
  readonly sync?: SyncReplication;
}

export interface PasteService {
  /** The new paste's id; rejects with one of the errors above. */
  save(contents: Buffer): Promise<string>;
  /** The paste with its exact bytes and prepared headers, or undefined for an unknown id. */
  get(id: string): Paste | undefined;
}

function storageReason(err: unknown): StorageError["reason"] {
  const code = String((err as { code?: unknown }).code ?? "");
  if (code === "SQLITE_FULL") return "disk-full";
  if (/^SQLITE_(READONLY|CANTOPEN|IOERR|BUSY|LOCKED)/.test(code)) return "unwritable";
  return "failed";
}

export function createPasteService({ store, metrics, logger, maxPasteBytes, cacheBytes, sync }: PasteServiceDeps): PasteService {
  const cache = createPasteCache(cacheBytes);
  async function replicated(id: string): Promise<void> {
    if (!sync) return;
    try {
      await sync.waitUntilReplicated();
    } catch (err) {
      logger.warn({ err, id }, "paste stored locally but not yet replicated");
      throw sync.writerConflict() ? new WriterConflictError(id, { cause: err }) : new ReplicaUnconfirmedError(id, { cause: err });
    }
  }

  return {
    async save(contents) {
      if (isBlank(contents)) throw new EmptyPasteError();
      if (contents.length > maxPasteBytes) throw new PasteTooLargeError(maxPasteBytes);
      for (let attempt = 0; attempt < DEFAULT_SAVE_ATTEMPTS; attempt++) {
        const id = newPasteId();
        let inserted: boolean;
        try {
          inserted = await store.insert(id, contents);
        } catch (err) {
          logger.error({ err }, "can't save entry");
          throw new StorageError(storageReason(err), { cause: err });
        }
        if (!inserted) continue;
        metrics.pasteStored(contents.length);
        await replicated(id);
        return id;
      }
      throw new NoFreeIdError(DEFAULT_SAVE_ATTEMPTS);
    },
    get(id) {
      const cached = cache?.get(id);
      if (cached) return cached;
      const stored = store.get(id);
      if (stored === undefined) return undefined;
      const paste = preparePaste(id, stored.contents, stored.created);
      cache?.set(id, paste);
      return paste;
    },
  };
}
