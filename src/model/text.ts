/**
 * Text the evidence may hold. A string field of a result is hashed as UTF-8: a lone UTF-16
 * surrogate has no UTF-8 form (it is stored as U+FFFD, so the record would later read as
 * altered), and control characters break the one-line forms people read (logs, CSV, reports).
 */

/** C0 and C1 control characters, DEL, and UTF-16 surrogates not part of a pair. */
// Built from code points: a regex literal with control characters is what linters rightly flag.
const CONTROL = `[${String.fromCharCode(0)}-${String.fromCharCode(0x1f)}${String.fromCharCode(0x7f)}-${String.fromCharCode(0x9f)}]`;
const LONE_SURROGATE = "[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]";
const UNSAFE = new RegExp(`${CONTROL}|${LONE_SURROGATE}`);
const UNSAFE_ALL = new RegExp(UNSAFE.source, "g");

/** What makes `value` unfit for the evidence (with its UTF-16 offset), or null when it is fine. */
export function unsafeTextProblem(value: string): string | null {
  const match = UNSAFE.exec(value);
  if (match === null) return null;
  const unit = match[0].charCodeAt(0);
  const hex = `U+${unit.toString(16).toUpperCase().padStart(4, "0")}`;
  const what = unit >= 0xd800 && unit <= 0xdfff ? "a lone UTF-16 surrogate" : "a control character";
  return `holds ${what} (${hex}) at offset ${match.index}`;
}

/**
 * `value` with every unsafe character replaced by U+FFFD: what a probe keeps of a vendor's
 * string, so that a hostile body can neither break the hash chain nor be refused by the store.
 */
export function safeText(value: string): string {
  return UNSAFE.test(value) ? value.replace(UNSAFE_ALL, "\ufffd") : value;
}

/**
 * Characters that change how text reads without showing: bidirectional controls (U+061C,
 * U+200E-U+200F, U+202A-U+202E, U+2066-U+2069) make "99.9" read as "9.99"; zero-width space
 * (U+200B) and the byte order mark (U+FEFF) make two different names look alike; the line and
 * paragraph separators (U+2028, U+2029) break a line where a reader (or a JSON-in-script
 * consumer) does not expect one; Unicode tag characters (U+E0000-U+E007F) carry hidden text.
 */
export const INVISIBLE_CHARACTERS =
  "\\u061c\\u200b\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ufeff\\u{e0000}-\\u{e007f}";

/** A control or invisible character (INVISIBLE_CHARACTERS): not in a title or name. */
const CONTROL_OR_INVISIBLE = new RegExp(`[\\p{Cc}${INVISIBLE_CHARACTERS}]`, "u");

/** The first control or invisible character of `value` as "U+XXXX", or null when it has none. */
export function invisibleCharacterIn(value: string): string | null {
  const match = CONTROL_OR_INVISIBLE.exec(value);
  if (match === null) return null;
  return `U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}
