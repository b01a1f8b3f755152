// What the bytes of a paste are, for the viewer: binary, text in valid UTF-8, or text with
// invalid sequences (shown with U+FFFD, and a notice saying so).

import { isUtf8 } from "node:buffer";

/** Git's rule for binary files: a NUL byte in the first 8,000 bytes. */
export const DEFAULT_BINARY_SNIFF_BYTES = 8000;

export type PasteContent =
  | { readonly kind: "binary" }
  | { readonly kind: "text"; readonly text: string; readonly validUtf8: boolean };

export function classify(bytes: Buffer): PasteContent {
  if (bytes.subarray(0, DEFAULT_BINARY_SNIFF_BYTES).includes(0)) return { kind: "binary" };
  const text = bytes.toString("utf8");
  return { kind: "text", text: text.startsWith("\ufeff") ? text.slice(1) : text, validUtf8: isUtf8(bytes) };
}
