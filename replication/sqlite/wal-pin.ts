// A read transaction held open so that no other connection can restart the WAL behind the
// replicator's back (Litestream's method), for databases that other processes write.
//
// While it reads from the WAL (it holds a read mark), no checkpoint backfills past its mark
// and the WAL cannot restart. Taken when everything was backfilled, it reads the database
// file alone: then the next write may restart the WAL once, but nothing can be backfilled
// (so the WAL cannot restart again) until it is renewed.

import type Database from "better-sqlite3";
import { readWalTail, walPathOf, type WalPosition } from "./wal-tail.js";

export class WalPin {
  constructor(
    private readonly db: Database.Database,
    private readonly dbPath: string,
  ) {}

  hold(): void {
    if (this.db.inTransaction) return;
    this.db.exec("BEGIN");
    this.db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get();
  }

  release(): void {
    if (this.db.inTransaction) this.db.exec("COMMIT");
  }

  /** Moves the pin to the WAL's current end. */
  renew(): void {
    this.release();
    this.hold();
  }

  /**
   * After a full checkpoint, renews the pin so that the WAL may restart, under the write
   * lock (taken on `writer`, an instant, never waiting longer than its busy timeout) so
   * that no commit lands in the old round, unseen, between the two pins. False (the old pin
   * stays, so the WAL cannot restart yet) when the lock was busy or something was committed
   * after `known`.
   */
  renewAfterCheckpoint(writer: Database.Database, known: WalPosition): boolean {
    try {
      writer.exec("BEGIN IMMEDIATE");
    } catch {
      return false;
    }
    try {
      if (readWalTail(walPathOf(this.dbPath), known, { nextRoundSalt1: null, maxBytes: 0 }) !== null) return false;
      this.renew();
      return true;
    } catch {
      return false;
    } finally {
      writer.exec("ROLLBACK");
    }
  }

  close(): void {
    this.release();
    this.db.close();
  }
}
