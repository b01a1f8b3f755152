// JSON pastes pretty-printed on request (`/<id>?pretty`). jsonc-parser's formatter works on
// tokens and leaves every number and string as written: JSON.parse + stringify would round
// ids above 2^53 and re-escape strings, and the page must show what was uploaded.

import jsonc from "jsonc-parser";

/** Worth offering: the text is one JSON object or array (checked for real only on request). */
export function looksLikeJson(text: string): boolean {
  const t = text.trim();
  return (t.startsWith("{") && t.endsWith("}")) || (t.startsWith("[") && t.endsWith("]"));
}

/** One JSON object or array, valid: strict JSON, no comments or trailing commas. */
export function isJsonDocument(text: string): boolean {
  if (!looksLikeJson(text)) return false;
  const errors: jsonc.ParseError[] = [];
  jsonc.parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  return errors.length === 0;
}

/** The text re-indented by two spaces, or undefined when it is not one valid JSON document. */
export function prettyJson(text: string): string | undefined {
  if (!isJsonDocument(text)) return undefined;
  return `${jsonc.applyEdits(text, jsonc.format(text, undefined, { tabSize: 2, insertSpaces: true, eol: "\n" }))}\n`;
}
