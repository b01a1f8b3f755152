import { customAlphabet } from "nanoid";

/** LogPaste's ids: 8 characters of [A-Za-z0-9], cryptographically random, case-sensitive. */
export const PASTE_ID_LENGTH = 8;
export const PASTE_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const newPasteId = customAlphabet(PASTE_ID_ALPHABET, PASTE_ID_LENGTH);

/** Whether `text` has the shape of an id newPasteId could draw. */
export function couldBePasteId(text: string): boolean {
  return text.length === PASTE_ID_LENGTH && [...text].every((c) => PASTE_ID_ALPHABET.includes(c));
}
