// Upload bytes held in memory, counted server-wide. Every byte an upload buffers (a PUT
// body, the form part that may become the paste) is taken from one budget as it arrives, and
// given back when the request ends; an upload that would go past the budget is refused
// (UploadsBusyError: 503, try again) instead of growing the heap until the kernel kills the
// process. Parts that are skipped are read and dropped chunk by chunk, and cost nothing here.
//
// Hand-written because the count has to be taken at the moment bytes are buffered, inside the
// body readers, and no body-parser library offers that hook; it is a counter and a loop.

import { PasteTooLargeError } from "./service.js";

/** The default budget, in multiples of the paste limit: 8 maximal uploads at once, chosen from the measured peak in docs/reliability.md ("Upload size and memory"). */
export const DEFAULT_INFLIGHT_PASTES = 8;

/** The uploads in flight would hold more than the budget. */
export class UploadsBusyError extends Error {
  override name = "UploadsBusyError";
  constructor(readonly capBytes: number) {
    super(`uploads in flight would hold more than ${capBytes} bytes`);
  }
}

/** One request's share of the budget. */
export interface UploadAccount {
  /** Takes `bytes` now and counts later takes against them first (a PUT's Content-Length). Throws UploadsBusyError. */
  prepay(bytes: number): void;
  /** Takes `bytes` more (beyond what was prepaid). Throws UploadsBusyError. */
  take(bytes: number): void;
  /** Gives back `bytes` of what this request holds (a buffer it has dropped). */
  give(bytes: number): void;
  /** Gives back everything; safe to call more than once. */
  close(): void;
}

export interface UploadBudget {
  readonly capBytes: number;
  /** Bytes held by the uploads in flight right now. */
  readonly inFlightBytes: number;
  open(): UploadAccount;
}

export function createUploadBudget(capBytes: number): UploadBudget {
  let inFlight = 0;
  const reserve = (bytes: number) => {
    if (inFlight + bytes > capBytes) throw new UploadsBusyError(capBytes);
    inFlight += bytes;
  };
  return {
    capBytes,
    get inFlightBytes() {
      return inFlight;
    },
    open() {
      let held = 0;
      let credit = 0;
      return {
        prepay(bytes) {
          reserve(bytes);
          held += bytes;
          credit += bytes;
        },
        take(bytes) {
          const fromCredit = Math.min(credit, bytes);
          credit -= fromCredit;
          reserve(bytes - fromCredit);
          held += bytes - fromCredit;
        },
        give(bytes) {
          const given = Math.min(bytes, held);
          held -= given;
          inFlight -= given;
        },
        close() {
          inFlight -= held;
          held = 0;
          credit = 0;
        },
      };
    },
  };
}

/**
 * Reads a body (or one form part) into one Buffer, each chunk charged to `account` as it is
 * kept. Rejects with PasteTooLargeError past `limitBytes` (bytes past the limit are never
 * kept) and with UploadsBusyError when the budget is spent.
 */
export async function readBounded(body: AsyncIterable<Buffer>, limitBytes: number, account: UploadAccount): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += chunk.length;
    if (length > limitBytes) throw new PasteTooLargeError(limitBytes);
    account.take(chunk.length);
    chunks.push(chunk);
  }
  // Always a copy: a chunk may be a view of a larger socket buffer, which it would keep alive.
  return Buffer.concat(chunks, length);
}

/** Reads and drops a body, telling `onChunk` each chunk's length: a skipped part costs time, not memory. */
export async function drain(body: AsyncIterable<Buffer>, onChunk: (length: number) => void): Promise<void> {
  for await (const chunk of body) onChunk(chunk.length);
}
