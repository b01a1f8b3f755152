// A POST's paste out of its multipart form, as docs/api.md states it: the first non-empty
// text field (a part without a filename, as Go's multipart reader counts it), else the first
// file. Every part is read as a stream of raw bytes, whatever type or charset it declares:
// the bytes are the paste. At most two parts are ever held (the first file, then a text
// field that may replace it); every other part is read and dropped. The whole form may
// carry at most formLimitBytes of part contents, so a form of a hundred large fields is
// refused after a few MiB instead of being read to its end.

import type { Multipart } from "@fastify/multipart";
import { HttpError } from "../plugins/errors.js";
import { drain, readBounded, type UploadAccount } from "../pastes/upload-budget.js";

export const FORM_FIELDS_LIMIT = 100;
export const FORM_FILES_LIMIT = 10;
/** Room in a form beyond the paste and one more part of the paste's size: small fields, an empty file input. */
export const DEFAULT_FORM_SLACK_BYTES = 1024 * 1024;

/** The part contents a form may carry in all: the paste, one ignored part as large, and some slack. */
export function formLimitBytes(maxPasteBytes: number): number {
  return 2 * maxPasteBytes + DEFAULT_FORM_SLACK_BYTES;
}

/** The refusal is sent before the body is read to its end: the connection cannot carry another request. */
export const CLOSE = { Connection: "close" } as const;

export const tooManyParts = () => new HttpError(413, "too many form parts: send one text field or one file", CLOSE);

async function* metered(chunks: AsyncIterable<Buffer>, onChunk: (length: number) => void): AsyncIterable<Buffer> {
  for await (const chunk of chunks) {
    onChunk(chunk.length);
    yield chunk;
  }
}

/**
 * The paste in `parts`: its bytes, an empty Buffer when the form had only empty text fields,
 * undefined when it had no part at all. Bytes kept are charged to `account`.
 */
export async function pasteFromForm(parts: AsyncIterable<Multipart>, maxPasteBytes: number, account: UploadAccount): Promise<Buffer | undefined> {
  const formLimit = formLimitBytes(maxPasteBytes);
  let formBytes = 0;
  const count = (length: number) => {
    formBytes += length;
    if (formBytes > formLimit) {
      throw new HttpError(413, `form too long: all its parts together may hold at most ${formLimit} bytes (twice the paste limit and 1 MiB)`, CLOSE);
    }
  };
  let text: Buffer | undefined;
  let file: Buffer | undefined;
  let sawField = false;
  let fields = 0;
  let files = 0;
  for await (const part of parts) {
    // The plugin is registered with isPartAFile: () => true, so that no part is ever decoded.
    if (part.type !== "file") throw new Error("a form part was decoded as a field: register @fastify/multipart with isPartAFile");
    // @fastify/multipart types filename as a string; busboy leaves it undefined when the part has none.
    const isText = (part.filename as string | undefined) === undefined;
    if (isText ? ++fields > FORM_FIELDS_LIMIT : ++files > FORM_FILES_LIMIT) throw tooManyParts();
    if (text !== undefined || (!isText && file !== undefined)) {
      await drain(part.file, count);
      continue;
    }
    const bytes = await readBounded(metered(part.file, count), maxPasteBytes, account);
    if (!isText) {
      file = bytes;
      continue;
    }
    sawField = true;
    if (bytes.length === 0) continue;
    text = bytes;
    if (file !== undefined) account.give(file.length);
    file = undefined;
  }
  return text ?? file ?? (sawField ? Buffer.alloc(0) : undefined);
}
