/**
 * Text from elsewhere (an agent's or a Prometheus server's answer), safe to print on a terminal:
 * every control character (C0, DEL and C1, so ESC sequences too) becomes a space-free nothing,
 * so that a hostile server cannot move the cursor, rewrite earlier lines or set the title; and the
 * bidirectional controls (U+202E and kin), which make text read in another order than it is.
 */
export function printable(text: string): string {
  return text.replace(/[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, "");
}
