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
