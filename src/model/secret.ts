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
 * Every form in which a credential value may come back from a server: the value whole, each
 * part of MIN_REDACTED_SUBSTRING+ characters inside a composite value (a server may echo just
 * the token of `Bearer X` or `sid=X`), and of each of those its base64 (with and without
 * padding, and URL-safe), URL-encoded and JSON-escaped forms. Longest first, so that a form
 * containing another is replaced whole.
 */
export function secretForms(values: Iterable<string>): string[] {
  const forms = new Set<string>();
  for (const value of values) {
    if (value === "") continue;
    const parts = [value, ...value.split(/[\s=:;,&]+/), ...value.split(PART_SEPARATORS)].filter(
      (p, i) => i === 0 || p.length >= MIN_REDACTED_SUBSTRING,
    );
    for (const part of parts) {
      const base64 = Buffer.from(part, "utf8").toString("base64");
      forms
        .add(part)
        .add(base64)
        .add(base64.replace(/=+$/, ""))
        .add(Buffer.from(part, "utf8").toString("base64url"))
        .add(encodeURIComponent(part))
        .add(JSON.stringify(part).slice(1, -1));
    }
  }
  forms.delete("");
  return [...forms].sort((a, b) => b.length - a.length);
}
