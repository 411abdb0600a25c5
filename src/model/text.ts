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
 * Invisible characters (INVISIBLE_CHARACTERS: a U+202E in an error code would reverse how every
 * format and terminal shows it) are replaced too: what the store keeps is what the merge of
 * agents' summaries accepts (src/reports/agent-summary-schema.ts refuses them).
 */
export function safeText(value: string): string {
  const visible = value.replace(INVISIBLE_ALL, "\ufffd");
  return UNSAFE.test(visible) ? visible.replace(UNSAFE_ALL, "\ufffd") : visible;
}

/**
 * Characters that change how text reads without showing, as Unicode classes them (a `u`-flag
 * regex class body): format characters (Cf: bidirectional controls make "99.9" read as "9.99",
 * zero-width space, joiners, word joiner, soft hyphen, BOM, interlinear annotations, tags carry
 * hidden text), every default-ignorable code point (Hangul fillers, variation selectors, the
 * combining grapheme joiner) and the line and paragraph separators (Zl, Zp), which break a line
 * where a reader (or a JSON-in-script consumer) does not expect one. Classes, not a list: a list
 * is always one character short.
 */
export const INVISIBLE_CHARACTERS = "\\p{Cf}\\p{Default_Ignorable_Code_Point}\\p{Zl}\\p{Zp}";

/** Every invisible character, for replace. */
const INVISIBLE_ALL = new RegExp(`[${INVISIBLE_CHARACTERS}]`, "gu");

/** A control or invisible character (INVISIBLE_CHARACTERS): not in a title or name. */
const CONTROL_OR_INVISIBLE = new RegExp(`[\\p{Cc}${INVISIBLE_CHARACTERS}]`, "u");

/** The first control or invisible character of `value` as "U+XXXX", or null when it has none. */
export function invisibleCharacterIn(value: string): string | null {
  const match = CONTROL_OR_INVISIBLE.exec(value);
  if (match === null) return null;
  return `U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}
