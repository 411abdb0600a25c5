import { inspect } from "node:util";

const REDACTED = "[redacted]";

/**
 * A credential. Its value is reachable only through reveal(); every way a value is usually turned
 * into text (String(), JSON, util.inspect, console.log, template literals) yields "[redacted]".
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  get isEmpty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * Secrets at least this long are redacted wherever they occur. A shorter one is redacted only
 * where it stands as a whole token: replacing "out" inside "timeout_ms" would turn every message
 * into an oracle that tells where the secret's letters occur.
 */
export const MIN_REDACTED_SUBSTRING = 8;

const TOKEN_CHAR = /[A-Za-z0-9_]/;

/** Compiled once per form: a probe result is scrubbed with the same forms on every run. */
const patterns = new Map<string, RegExp>();

/**
 * A secret matched without regard to case: a server that echoes a token upper-cased (or
 * lower-cased) echoes it still. Base64 and hex are case-sensitive encodings, but an upper-cased
 * base64 form still gives most of the secret away, so every form is matched this way; for a form of
 * MIN_REDACTED_SUBSTRING+ characters a text equal to it but for case is no accident.
 */
function patternOf(secret: string): RegExp {
  let pattern = patterns.get(secret);
  if (pattern === undefined) {
    pattern = new RegExp(secret.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&"), "giu");
    if (patterns.size > 10_000) patterns.clear();
    patterns.set(secret, pattern);
  }
  return pattern;
}

/**
 * `text` with every configured secret replaced by "[redacted]" (see MIN_REDACTED_SUBSTRING),
 * matched case-insensitively (patternOf).
 */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const pattern = patternOf(secret);
    pattern.lastIndex = 0;
    if (!pattern.test(out)) continue;
    pattern.lastIndex = 0;
    out =
      secret.length >= MIN_REDACTED_SUBSTRING
        ? out.replace(pattern, REDACTED)
        : out.replace(pattern, (match: string, at: number, whole: string) =>
            isWholeToken(whole, at, match.length) ? REDACTED : match,
          );
  }
  return out;
}

/** A short secret is replaced only where no token character touches it on either side. */
function isWholeToken(text: string, at: number, length: number): boolean {
  const before = text[at - 1];
  const after = text[at + length];
  return (
    (before === undefined || !TOKEN_CHAR.test(before)) && (after === undefined || !TOKEN_CHAR.test(after))
  );
}

/**
 * Where a composite credential value splits into its parts: `Bearer X`, `sid=X; b=Y`, `a:X`,
 * `k=X&l=Y`, and at any other character that is not a letter, digit or `.` `_` `~` `-` (a quote,
 * `/`, `+`, `%`...): a server may echo only one run of a value like `abcdefgh"ijklmnop/qr`.
 */
const PART_SEPARATORS = /[^A-Za-z0-9._~-]+/u;

/**
 * Whether a run between PART_SEPARATORS is worth scrubbing on its own: 8+ characters and not a
 * plain word. A URL from the environment splits at `/` into its path's words too (a Slack
 * webhook's `.../services/T0/B0/...`), and scrubbing "services" would redact every title and log
 * line that says it -- and change the configuration's fingerprint with the environment.
 */
function looksLikeToken(part: string): boolean {
  if (part.length < MIN_REDACTED_SUBSTRING) return false;
  if (part.length >= 16 || /[0-9._~-]/.test(part)) return true;
  return /[a-z]/.test(part) && /[A-Z]/.test(part);
}

/**
 * Every form in which a credential value may come back from a server: the value whole, each
 * part of MIN_REDACTED_SUBSTRING+ characters inside a composite value (a server may echo just
 * the token of `Bearer X` or `sid=X`), and of each of those (encodedForms) its base64 -- whole,
 * and the part of it that stays the same wherever the value sits in a longer base64 text --, its
 * URL-encoded, percent-encoded, hex, JSON-escaped and HTML-entity forms. Longest first, so that a
 * form containing another is replaced whole.
 */
export function secretForms(values: Iterable<string>): string[] {
  const forms = new Set<string>();
  for (const value of values) {
    if (value === "") continue;
    const parts = [
      value,
      ...value.split(/[\s=:;,&]+/).filter((p) => p.length >= MIN_REDACTED_SUBSTRING),
      ...value.split(PART_SEPARATORS).filter(looksLikeToken),
    ];
    for (const part of parts) for (const form of encodedForms(part)) forms.add(form);
  }
  forms.delete("");
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * One value and its encodings. Matching is case-insensitive (SecretScrubber), so one form stands
 * for upper- and lower-case hex digits and percent escapes alike.
 */
function encodedForms(part: string): string[] {
  const bytes = Buffer.from(part, "utf8");
  const base64 = bytes.toString("base64");
  const codeUnits = [...part].map((c) => c.codePointAt(0)!);
  const forms = [
    part,
    base64,
    base64.replace(/=+$/, ""),
    bytes.toString("base64url"),
    encodeURIComponent(part),
    encodeURIComponent(encodeURIComponent(part)),
    [...bytes].map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""),
    // The same URL-encoded once more (`%254B%2578...`): a query parameter echoed inside a URL.
    [...bytes].map((b) => `%25${b.toString(16).padStart(2, "0")}`).join(""),
    bytes.toString("hex"),
    JSON.stringify(part).slice(1, -1),
    [...part]
      .flatMap((c) => (c.length === 2 ? [c.charCodeAt(0), c.charCodeAt(1)] : [c.charCodeAt(0)]))
      .map((u) => `\\u${u.toString(16).padStart(4, "0")}`)
      .join(""),
    codeUnits.map((c) => `&#${c};`).join(""),
    codeUnits.map((c) => `&#x${c.toString(16)};`).join(""),
  ];
  // Only a part long enough to stand out may be matched inside a longer base64 text.
  if (part.length >= MIN_REDACTED_SUBSTRING) {
    for (const core of base64Cores(bytes)) forms.push(core, core.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return forms;
}

/**
 * Base64 turns each 3 bytes into 4 characters, so the value inside a longer text (`b64("x" + S)`,
 * `b64("user:" + S)`) is encoded in one of three ways, by where it starts modulo 3. For each, the
 * characters that depend on the value's bytes alone: without the first 0, 2 or 3 characters
 * (which mix in the bytes before it) and without the last one (which mixes in the bytes after it).
 */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (const offset of [0, 1, 2]) {
    const total = offset + bytes.length;
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes])
      .toString("base64")
      .replace(/=+$/, "");
    const skip = [0, 2, 3][offset]!;
    const end = encoded.length - (total % 3 === 0 ? 0 : 1);
    const core = encoded.slice(skip, end);
    if (core.length >= MIN_REDACTED_SUBSTRING) cores.push(core);
  }
  return cores;
}

/**
 * Invisible characters a server may slip inside an echoed secret to get it past a matcher, and
 * U+FFFD, which is what safeText (model/text.ts) makes of some of them before a result is scrubbed.
 */
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff\ufffd]/gu;

const escapeRegExp = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");

/**
 * How many characters of a form SecretScrubber.holds looks up before comparing the whole form: all
 * of the shortest. Fewer let the `\u00...` forms of every run of a long token share one beginning,
 * and a text of `\u00` repeated compared each position with all of them (hostile review, round 15).
 */
const BEGINNING = MIN_REDACTED_SUBSTRING;

/** A node of triePattern's tree: the next characters, and whether a form ends here. */
interface TrieNode {
  readonly next: Map<string, TrieNode>;
  end: boolean;
}

/**
 * The forms as one pattern that shares their common beginnings (`ab(?:c|d)` for `abc|abd`), so a
 * match attempt at each position of a text follows one path instead of trying every form: a
 * long token has a run of MIN_REDACTED_SUBSTRING characters at each offset, each in ~20 forms,
 * and as a flat alternation of thousands of forms one scrub of a 320-character text took ~4 ms
 * (hostile review, round 14). Each form still matches exactly the texts it did; where one form
 * is the beginning of another, the longer is preferred (greedy), as the longest-first
 * alternation did. Written here because no library builds such a pattern.
 */
function triePattern(forms: readonly string[]): string {
  const root: TrieNode = { next: new Map(), end: false };
  for (const form of forms) {
    let node = root;
    for (const c of form) {
      let child = node.next.get(c);
      if (!child) {
        child = { next: new Map(), end: false };
        node.next.set(c, child);
      }
      node = child;
    }
    node.end = true;
  }
  return branches(root);
}

/** The pattern under `node`; a run of nodes with one way on each is written as one literal, not recursed into. */
function branches(node: TrieNode): string {
  const ways = [...node.next].map(([c, child]) => {
    let literal = escapeRegExp(c);
    let at = child;
    while (at.next.size === 1 && !at.end) {
      const [d, next] = at.next.entries().next().value as [string, TrieNode];
      literal += escapeRegExp(d);
      at = next;
    }
    return literal + branches(at);
  });
  if (ways.length === 0) return "";
  const body = ways.length === 1 && !node.end ? ways[0]! : `(?:${ways.join("|")})`;
  return node.end ? `${ways.length === 1 ? `(?:${ways[0]})` : body}?` : body;
}

/**
 * Replaces every form (secretForms) of a set of secret values with "[redacted]" in one pass over a
 * text: the forms are compiled once into one alternation, longest first, matched without regard to
 * case. A form of MIN_REDACTED_SUBSTRING+ characters is replaced wherever it stands; a shorter one
 * only as a whole token (redactSecrets). Invisible characters (zero-width spaces and joiners, soft
 * hyphens, byte-order marks, U+FFFD) are ignored inside a match, and removed with it.
 */
export class SecretScrubber {
  readonly #pattern: RegExp | null;
  readonly #values: ReadonlySet<string>;
  readonly #long: readonly string[];
  readonly #short: RegExp | null;
  #byBeginning: Map<string, string[]> | null = null;

  constructor(values: Iterable<string>) {
    this.#values = new Set([...values].filter((v) => v !== ""));
    const forms = secretForms(this.#values);
    this.#long = forms.filter((f) => f.length >= MIN_REDACTED_SUBSTRING);
    const short = forms.filter((f) => f.length < MIN_REDACTED_SUBSTRING).map(escapeRegExp);
    const shortPattern = `(?<![A-Za-z0-9_])(?:${short.join("|")})(?![A-Za-z0-9_])`;
    this.#short = short.length > 0 ? new RegExp(shortPattern, "iu") : null;
    const alternatives = [
      ...(this.#long.length > 0 ? [triePattern(this.#long)] : []),
      ...(short.length > 0 ? [shortPattern] : []),
    ];
    this.#pattern = alternatives.length === 0 ? null : new RegExp(alternatives.join("|"), "giu");
  }

  /**
   * Whether the text holds a form, invisible characters ignored, compared after NFKC and lower
   * case (so at least wherever scrub would replace one). Each position's first BEGINNING
   * characters are looked up among the forms' beginnings, so the work is linear in the text
   * whatever the number of forms: for deciding about many decoded views of a text (remote-text.ts),
   * where even the pattern cost ~0.3 ms a view with a 200-character token (hostile review, round 14).
   */
  holds(text: string): boolean {
    const folded = text.replace(INVISIBLE, "").normalize("NFKC").toLowerCase();
    const byBeginning = this.#beginnings();
    for (let i = 0; i + MIN_REDACTED_SUBSTRING <= folded.length; i++) {
      const forms = byBeginning.get(folded.slice(i, i + BEGINNING));
      if (forms?.some((form) => folded.startsWith(form, i))) return true;
    }
    return this.#short?.test(folded) ?? false;
  }

  #beginnings(): Map<string, string[]> {
    if (this.#byBeginning) return this.#byBeginning;
    const byBeginning = new Map<string, string[]>();
    for (const form of this.#long) {
      const folded = form.normalize("NFKC").toLowerCase();
      const forms = byBeginning.get(folded.slice(0, BEGINNING)) ?? [];
      forms.push(folded);
      byBeginning.set(folded.slice(0, BEGINNING), forms);
    }
    this.#byBeginning = byBeginning;
    return byBeginning;
  }

  /** A scrubber of this one's values and `more`. */
  with(more: Iterable<string>): SecretScrubber {
    return new SecretScrubber([...this.#values, ...more]);
  }

  /** True when every value is among those this scrubber was built from. */
  covers(values: Iterable<string>): boolean {
    for (const value of values) if (value !== "" && !this.#values.has(value)) return false;
    return true;
  }

  scrub(text: string): string {
    if (this.#pattern === null || text === "") return text;
    INVISIBLE.lastIndex = 0;
    if (!INVISIBLE.test(text)) return text.replace(this.#pattern, REDACTED);
    // Match on the text without invisible characters; replace in the text as it was.
    const visible: number[] = [];
    let stripped = "";
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      INVISIBLE.lastIndex = 0;
      if (INVISIBLE.test(c)) continue;
      visible.push(i);
      stripped += c;
    }
    let out = "";
    let from = 0;
    for (const match of stripped.matchAll(this.#pattern)) {
      const start = visible[match.index]!;
      const end = visible[match.index + match[0].length - 1]! + 1;
      out += text.slice(from, start) + REDACTED;
      from = end;
    }
    return out + text.slice(from);
  }
}
