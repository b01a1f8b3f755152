import { customAlphabet } from "nanoid";

/** LogPaste's ids: 8 characters of [A-Za-z0-9], cryptographically random, case-sensitive. */
export const PASTE_ID_LENGTH = 8;
export const newPasteId = customAlphabet("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", PASTE_ID_LENGTH);
