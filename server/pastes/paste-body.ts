// What counts as an empty paste: LogPaste rejects a body that Go's strings.TrimSpace
// leaves empty, i.e. made only of Unicode white space. A BOM is not white space there,
// so a lone BOM is a (strange but valid) paste.

const GO_SPACE_ONLY = /^[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$/;
const ASCII_SPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]);
const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

export function isBlank(body: Uint8Array): boolean {
  for (const byte of body) {
    // Nearly every paste is settled by its first non-space ASCII byte; decode only when needed.
    if (byte >= 0x80) return GO_SPACE_ONLY.test(decoder.decode(body));
    if (!ASCII_SPACE.has(byte)) return false;
  }
  return true;
}
