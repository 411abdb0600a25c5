/** Milliseconds since the Unix epoch, UTC. Every instant in the domain model is one of these. */
export type EpochMs = number;

/** A half-open interval [start, end) of instants. */
export interface Interval {
  readonly start: EpochMs;
  readonly end: EpochMs;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The calendar month "YYYY-MM" in UTC as [first instant, first instant of next month). */
export function monthInterval(month: string): Interval {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (!match) throw new RangeError(`month must be YYYY-MM, got "${month}"`);
  const year = Number(match[1]);
  const monthIndex = Number(match[2]) - 1;
  if (monthIndex < 0 || monthIndex > 11) throw new RangeError(`month must be 01..12, got "${month}"`);
  return { start: Date.UTC(year, monthIndex, 1), end: Date.UTC(year, monthIndex + 1, 1) };
}

/** The UTC calendar month "YYYY-MM" that contains the instant. */
export function monthOf(ts: EpochMs): string {
  const d = new Date(ts);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** ISO-8601 UTC with milliseconds, the one textual form of an instant in every output. */
export function isoUtc(ts: EpochMs): string {
  return new Date(ts).toISOString();
}

/** UTC midnight of the day `ts` falls in (negative times too). */
export function startOfDay(ts: EpochMs): EpochMs {
  return ts - (((ts % DAY_MS) + DAY_MS) % DAY_MS);
}
