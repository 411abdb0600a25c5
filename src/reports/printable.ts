import { INVISIBLE_CHARACTERS } from "../model/text.js";

/**
 * Text from elsewhere (an agent's or a Prometheus server's answer), safe to print on a terminal:
 * every control character (C0, DEL and C1, so ESC sequences too) becomes a space-free nothing,
 * so that a hostile server cannot move the cursor, rewrite earlier lines or set the title; and the
 * bidirectional controls (U+202E and kin), which make text read in another order than it is, and
 * the other invisible characters (zero-width space, BOM, U+2028/U+2029, tag characters).
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, "");
}

/** Control characters and the invisible ones (INVISIBLE_CHARACTERS: zero-width, U+2028, tags...). */
const UNPRINTABLE = new RegExp(`[\\p{Cc}${INVISIBLE_CHARACTERS}]`, "gu");

/**
 * `text` with every control and invisible character written as `\u{XXXX}`: for a message that
 * names what an agent sent (a key path, a category), so the operator sees that the character was
 * there without the terminal acting on it.
 */
export function escapedText(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`);
}
