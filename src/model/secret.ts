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

/** `text` with every configured secret replaced by "[redacted]" (see MIN_REDACTED_SUBSTRING). */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length === 0 || !out.includes(secret)) continue;
    out =
      secret.length >= MIN_REDACTED_SUBSTRING ? out.replaceAll(secret, REDACTED) : wholeTokens(out, secret);
  }
  return out;
}

function wholeTokens(text: string, secret: string): string {
  let out = "";
  let from = 0;
  let at = text.indexOf(secret);
  while (at !== -1) {
    const before = text[at - 1];
    const after = text[at + secret.length];
    const whole =
      (before === undefined || !TOKEN_CHAR.test(before)) && (after === undefined || !TOKEN_CHAR.test(after));
    if (whole) {
      out += text.slice(from, at) + REDACTED;
      from = at + secret.length;
    }
    at = text.indexOf(secret, whole ? from : at + 1);
  }
  return out + text.slice(from);
}

/** Where a composite credential value splits into its parts: `Bearer X`, `sid=X; b=Y`, `a:X`, `k=X&l=Y`. */
const PART_SEPARATORS = /[\s=:;,&]+/;

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
    const parts = [value, ...value.split(PART_SEPARATORS).filter((p) => p.length >= MIN_REDACTED_SUBSTRING)];
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
