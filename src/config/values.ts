import { validateDetailed } from "node-cron";

/**
 * Parsers for the wire form's scalar values ("30s", "99.0", "2026-10-10T01:00:00Z", "HOST:PORT").
 * The schema uses them to validate and the conversion to the domain model uses them to convert,
 * so the two can never disagree.
 */

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** "30s", "5m", "1h", "1h30m", "250ms" -> milliseconds; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const whole = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
  if (!whole.test(text)) return null;
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(part[1]) * DURATION_UNITS_MS[part[2]!]!;
  }
  return total;
}

/** A percentage written as a number or a numeric string ("99.0"); null otherwise. */
export function parsePercent(value: number | string): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  return /^\s*\d+(?:\.\d+)?\s*$/.test(value) ? Number(value) : null;
}

/** A ratio from a percentage, rounded so that 99.9 becomes 0.999 and not 0.9990000000000001. */
export function percentToRatio(pct: number): number {
  return Number((pct / 100).toPrecision(12));
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 timestamp with an explicit zone -> epoch ms; null otherwise (a zone is required). */
export function parseTimestamp(text: string): number | null {
  if (!TIMESTAMP.test(text)) return null;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return null;
  // Date.parse rolls 2026-02-30 over to March; a calendar date that does not exist is refused.
  const [datePart] = text.split("T");
  const [y, m, d] = datePart!.split("-").map(Number);
  const probe = new Date(Date.UTC(y!, m! - 1, d!));
  return probe.getUTCMonth() === m! - 1 && probe.getUTCDate() === d ? ms : null;
}

/** "0.0.0.0:9464", "[::1]:9464", "localhost:0" -> host and port; null otherwise. */
export function parseListen(text: string): { host: string; port: number } | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const port = Number(match[2]);
  if (port > 65_535) return null;
  return { host: match[1]!.replace(/^\[|\]$/g, ""), port };
}

/** Absolute http:// or https:// URL. */
export function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname.length > 0;
}

/** The base URL in its one canonical form: no trailing slash. */
export function canonicalBaseUrl(text: string): string {
  return text.replace(/\/+$/, "");
}

/** Why a cron expression is invalid (5 fields, or 6 with seconds first); null when it is valid. */
export function cronProblem(expression: string): string | null {
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    return `must be a cron expression with 5 fields, or 6 with seconds first (got ${fields})`;
  }
  const result = validateDetailed(expression);
  if (!result.valid) {
    const first = result.errors?.[0];
    return `invalid cron expression${first ? `: ${first.message}` : ""}`;
  }
  return stepProblem(expression.trim().split(/\s+/));
}

/** Each field's name and how many values it has, for 6 fields (seconds first); 5 fields drop the first. */
const CRON_FIELDS: readonly (readonly [string, number])[] = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day of month", 31],
  ["month", 12],
  ["day of week", 7],
];

/**
 * A step at least as large as its field ("*\/90" seconds) fires once per cycle at most: almost
 * certainly a mistaken interval, which cron libraries accept silently.
 */
function stepProblem(fields: readonly string[]): string | null {
  const names = fields.length === 6 ? CRON_FIELDS : CRON_FIELDS.slice(1);
  for (const [i, field] of fields.entries()) {
    const [name, size] = names[i]!;
    for (const part of field.split(",")) {
      const step = /\/(\d+)$/.exec(part);
      if (step && Number(step[1]) >= size) {
        return `step ${step[1]} is not smaller than the ${name} field (${size} values): it would fire once per cycle at most`;
      }
    }
  }
  return null;
}

/** RFC 9110 field-name: a token. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 field-value characters (visible ASCII, obs-text, space and tab); never CR, LF or NUL. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Why a header name or value cannot be sent (undici refuses it, so every request would fail), or null. */
export function headerProblem(name: string, value: string): string | null {
  if (!HEADER_NAME.test(name)) {
    return `header name ${JSON.stringify(name)} is not a valid HTTP token (letters, digits and !#$%&'*+-.^_\`|~ only)`;
  }
  if (!HEADER_VALUE.test(value)) {
    return `header ${name}: value holds a character HTTP does not allow (a line break, NUL or other control character)`;
  }
  return null;
}
