import { MIN_REDACTED_SUBSTRING, SecretScrubber } from "../model/secret.js";
import { printable } from "./printable.js";

const REDACTED = "[redacted]";

/**
 * What a remote server's text (a Prometheus answer's labels, warnings, error) may show when the
 * request carried `token`: without combining marks (an underline under each character leaves it
 * readable), NFKC-normalised (a fullwidth copy of the token is the token), without control or
 * invisible characters (one slipped inside the token would otherwise be stripped after the scrub
 * and join it again), scrubbed of the token and of every run of MIN_REDACTED_SUBSTRING of its
 * characters in every form SecretScrubber knows, and at most `max` characters. A text that still
 * holds the token once decoded (encodedViews) is "[redacted]" whole. Only its first MAX_READ
 * characters are read. A text in `known` is returned as it is.
 */
export function remoteText(
  token: string | undefined,
  known: ReadonlySet<string> = new Set(),
): (text: string, max?: number) => string {
  const secrets = scrubberOf(token);
  // For an ASCII token, holds() finds at least what scrub() replaces (lower case and NFKC fold
  // ASCII as the pattern's case-insensitive match does), and finds it faster: a text it clears
  // is left as it is.
  const asciiToken = token !== undefined && /^[\x20-\x7e]*$/.test(token);
  // An answer repeats its label names and values: each distinct text is made once.
  const made = new Map<string, string>();
  let decoded = 0;
  const make = (text: string): string => {
    const shown = plainText(text);
    let clean = asciiToken && !secrets.holds(shown) ? shown : secrets.scrub(shown);
    if (token && clean.length >= MIN_REDACTED_SUBSTRING) {
      // Decoding costs ~2 ms a text of MAX_READ characters: an answer holding thousands of
      // distinct texts is no agent's (a few hundred distinct label values at most): not read.
      if (++decoded > MAX_DECODED) throw new TooManyTexts();
      if (encodedViews(clean).some((view) => secrets.holds(view))) clean = REDACTED;
    }
    return text.length > MAX_READ ? `${clean}...` : clean;
  };
  return (text, max) => {
    // The report's own words (a configured category id): never an echo, and withheld they would
    // drop a category's requests from the report (hostile review, round 16: the letters of
    // "read_only_identity" hold "readonly", 8 characters of a token such as
    // "prometheus-readonly-token").
    if (known.has(text)) return text;
    let clean = made.get(text);
    if (clean === undefined) {
      clean = make(text);
      if (made.size < 10_000) made.set(text, clean);
    }
    return max === undefined || clean.length <= max ? clean : `${clean.slice(0, max)}...`;
  };
}

/**
 * The last token's scrubber: a report asks one Prometheus several queries with one token, and
 * making a scrubber of a long token's runs (a 1,000-character token has ~1,000, each in ~20
 * forms) takes a second or more.
 */
let lastScrubber: { readonly token: string | undefined; readonly secrets: SecretScrubber } | null = null;

function scrubberOf(token: string | undefined): SecretScrubber {
  if (lastScrubber?.token !== token || lastScrubber === null) {
    lastScrubber = { token, secrets: new SecretScrubber(token ? tokenRuns(token) : []) };
  }
  return lastScrubber.secrets;
}

/**
 * Whether a text holds a run of MIN_REDACTED_SUBSTRING of the token's characters in any form
 * SecretScrubber knows, without decoding it further: for a remote server's numbers, which are
 * shown as they are (a count of 86753090123456 spells out a token's digits).
 */
export function echoesToken(token: string | undefined): (text: string) => boolean {
  if (!token) return () => false;
  const secrets = scrubberOf(token);
  return (text) => text.length >= MIN_REDACTED_SUBSTRING && secrets.holds(text);
}

/**
 * Whether texts that are each too short to hold MIN_REDACTED_SUBSTRING of the token's characters
 * spell much of it out between them (a token cut into region names of 7 characters): half its
 * characters, and at least MIN_REDACTED_SUBSTRING, within runs of PIECE characters that some text
 * holds, compared in lower case. Honest names share a run of three with a random token rarely,
 * and never half of it; a token cut into pieces of two or fewer characters is not recognised.
 */
export function spellsToken(token: string | undefined, texts: Iterable<string>): boolean {
  if (!token || token.length < MIN_REDACTED_SUBSTRING) return false;
  const held = new Set<string>();
  for (const text of texts) {
    const folded = plainText(text).toLowerCase();
    for (let i = 0; i + PIECE <= folded.length; i++) held.add(folded.slice(i, i + PIECE));
  }
  const folded = token.toLowerCase();
  const covered = new Uint8Array(folded.length);
  for (let i = 0; i + PIECE <= folded.length; i++) {
    if (held.has(folded.slice(i, i + PIECE))) covered.fill(1, i, i + PIECE);
  }
  const spelled = covered.reduce((n, c) => n + c, 0);
  return spelled >= MIN_REDACTED_SUBSTRING && spelled * 2 >= folded.length;
}

/** The shortest piece of the token spellsToken looks for. */
const PIECE = 3;

/**
 * Whether a text the report worked out holds the token in a form made of digits alone: a figure
 * made of the source's counts (a sum, an exponent written out) that no check of the answers saw.
 * The forms: MIN_REDACTED_SUBSTRING of its digits in a row, and the hex of MIN_REDACTED_SUBSTRING of
 * its characters where that is all digits (a hex token's "3f9a0c7d" is 3366396130633764); a
 * number's decimal point is read through (8675309.0123456). Only digits: the report's own words
 * may share a run with a token made of words ("prometheus-reader"), and every label it shows was
 * scrubbed when read. Hostile reviews, rounds 15 and 16.
 */
export function spellsTokenDigits(token: string | undefined): (text: string) => boolean {
  const forms = new Set<string>();
  for (const run of token ? tokenRuns(token) : []) {
    for (const form of [run, Buffer.from(run).toString("hex")]) if (/^\d+$/.test(form)) forms.add(form);
  }
  if (forms.size === 0) return () => false;
  const lengths = [...new Set([...forms].map((f) => f.length))];
  return (text) => {
    for (const [number] of text.matchAll(/\d[\d.]*/g)) {
      const digits = number.replace(/\./g, "");
      for (const length of lengths) {
        for (let i = 0; i + length <= digits.length; i++)
          if (forms.has(digits.slice(i, i + length))) return true;
      }
    }
    return false;
  };
}

/** Distinct texts of one answer decoded (encodedViews) at the most. */
export const MAX_DECODED = 1_000;

/** An answer with more distinct texts to decode than MAX_DECODED: not read. */
export class TooManyTexts extends Error {}

/**
 * Characters read of one remote text: labels are ids and warnings are shown up to 200, so this is
 * room enough, and it bounds the decoding below (a hostile answer of megabyte-long texts).
 */
const MAX_READ = 320;

const COMBINING = /[\p{Mn}\p{Me}]/gu;

/**
 * A remote text's first MAX_READ characters as they are read before any scrub: NFKC-normalised,
 * without combining marks, control or invisible characters. For recognising a fixed wording (a
 * token that shares 8 characters with it would otherwise change it); never for showing.
 */
export function plainText(text: string): string {
  // Decomposed first: NFKC alone would compose a letter and its accent into one precomposed
  // letter (s and U+0301 into ś) before the marks are stripped (hostile review, round 15).
  return printable(text.slice(0, MAX_READ).normalize("NFD").replace(COMBINING, "").normalize("NFKC"));
}

/**
 * The token and every run of MIN_REDACTED_SUBSTRING+ of its characters: one credential, so a
 * server that echoes only part of it (cut short, or split in two by a space) gives none of it
 * away. SecretScrubber adds each one's encodings.
 */
function tokenRuns(token: string): string[] {
  const runs = new Set([token]);
  for (let start = 0; start + MIN_REDACTED_SUBSTRING <= token.length; start++) {
    runs.add(token.slice(start, start + MIN_REDACTED_SUBSTRING));
  }
  return [...runs];
}

/**
 * The text decoded in the ways a server could write the token that SecretScrubber's fixed forms
 * miss: escapes of any width (`&#0115;`, `\163`, `=73`, `%73`, `\u0073`, `\U00000073`, `\/`), hex
 * with separators or C's `0x` prefixes, the letters and digits alone (`s.3.c.r...`, and
 * reversed), every second, third or fourth character (each written two to four times, or others
 * between each), hex and base64 and base32 runs at any alignment (decoded twice, as UTF-8 and
 * UTF-16 either way, and reversed), ROT13 and reversed. Written
 * here because no library decodes a text every way and scans it again. The set is not closed (a
 * look-alike letter from another script is not folded); each view only decides whether the whole
 * text is withheld.
 */
function encodedViews(text: string): string[] {
  const unescaped = text
    .replace(/&#(x?)([0-9a-f]+);?/gi, (_, hex: string, n: string) =>
      codePoint(Number.parseInt(n, hex ? 16 : 10)),
    )
    .replace(/\\U([0-9a-f]{8})/g, (_, n: string) => codePoint(Number.parseInt(n, 16)))
    .replace(/\\u\{?([0-9a-f]{1,6})\}?/gi, (_, n: string) => codePoint(Number.parseInt(n, 16)))
    .replace(/\\x([0-9a-f]{2})/gi, (_, n: string) => codePoint(Number.parseInt(n, 16)))
    .replace(/\\([0-7]{1,3})/g, (_, n: string) => codePoint(Number.parseInt(n, 8)))
    .replace(/=([0-9A-F]{2})/g, (_, n: string) => codePoint(Number.parseInt(n, 16)))
    // Percent-encoding, some characters or all, and once more encoded (%2573).
    .replace(/%25([0-9a-f]{2})/gi, "%$1")
    .replace(/%([0-9a-f]{2})/gi, (_, n: string) => codePoint(Number.parseInt(n, 16)))
    .replace(/\\(.)/g, "$1");
  // Hex digits alone, C's 0x prefixes and their leading zeros taken off first, so a byte is two
  // digits (`0x73,0x33`, `0x067`, `0X00067`: rounds 16 and 18).
  const hexOnly = text
    .replace(/0x0*([0-9a-f]{1,2})(?![0-9a-f])/gi, (_, n: string) => n.padStart(2, "0"))
    .replace(/[^0-9a-f]/gi, "");
  const alnum = text.replace(/[^0-9a-z]/gi, "");
  const views = [
    unescaped,
    hexOnly,
    alnum,
    rot13(text),
    reversed(text),
    reversed(alnum),
    // Hex at any alignment: a nibble for the bytes, two bytes for UTF-16.
    ...[0, 1, 2, 3].flatMap((skip) => utf16(Buffer.from(evenLength(hexOnly.slice(skip)), "hex"))),
    // Each character written two to four times, or others between each.
    ...[2, 3, 4].flatMap((k) => Array.from({ length: k }, (_, at) => everyNth(text, k, at))),
  ];
  for (const source of [text, unescaped]) {
    for (const decoded of [...base64Decodings(source), ...base32Decodings(source)]) {
      views.push(decoded, reversed(decoded), ...base64Decodings(decoded));
    }
  }
  return views;
}

function codePoint(n: number): string {
  return Number.isInteger(n) && n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : "";
}

/** Bytes read as UTF-8, UTF-16LE and UTF-16BE. */
function utf16(bytes: Buffer): string[] {
  const swapped = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2))).swap16();
  return [bytes.toString("utf8"), bytes.toString("utf16le"), swapped.toString("utf16le")];
}

function evenLength(hex: string): string {
  return hex.slice(0, hex.length - (hex.length % 2));
}

function everyNth(text: string, k: number, at: number): string {
  let out = "";
  for (let i = at; i < text.length; i += k) out += text[i];
  return out;
}

function reversed(text: string): string {
  return [...text].reverse().join("");
}

function rot13(text: string): string {
  return text.replace(/[a-z]/gi, (c) => {
    const base = c <= "Z" ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

/** Each run of base64 (or base64url) characters decoded from each of its first four offsets. */
function base64Decodings(text: string): string[] {
  const out: string[] = [];
  for (const [run] of text.matchAll(/[A-Za-z0-9+/_-]{11,}/g)) {
    for (let skip = 0; skip < 4; skip++) {
      out.push(...utf16(Buffer.from(run.slice(skip), "base64")));
    }
  }
  return out;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Each run of base32 characters (RFC 4648, either case) decoded from each of its first eight offsets. */
function base32Decodings(text: string): string[] {
  const out: string[] = [];
  for (const [run] of text.toUpperCase().matchAll(/[A-Z2-7]{13,}/g)) {
    for (let skip = 0; skip < 8; skip++) {
      const bytes: number[] = [];
      let bits = 0;
      let value = 0;
      for (const c of run.slice(skip)) {
        value = (value << 5) | BASE32.indexOf(c);
        bits += 5;
        if (bits >= 8) {
          bits -= 8;
          bytes.push((value >> bits) & 0xff);
        }
      }
      out.push(Buffer.from(bytes).toString("utf8"));
    }
  }
  return out;
}
