/**
 * Where every bench puts its figures: printed as one JSON line on stdout (as before) and kept for
 * bench/results.md, which `npm run bench` writes at the end.
 */
/** A figure: a number or a label, or (for a few benches) a small list or object of them. */
export type Figure = unknown;
export interface Figures {
  readonly bench: string;
  readonly [key: string]: Figure;
}

const collected: Figures[] = [];

export function emit(figures: Figures): void {
  collected.push(figures);
  console.log(JSON.stringify(figures));
}

export function collectedFigures(): readonly Figures[] {
  return collected;
}

/** Rounds to 3 decimals, keeping null. */
export function round(value: number | null | undefined, digits = 3): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Nearest-rank percentile (the report's definition), null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
