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

/** The lowest and highest value of a figure over the runs its median was taken from. */
const ranges = new WeakMap<Figures, Record<string, readonly [number, number]>>();

/** The range over runs of a figure that medianOfRuns made, when there was more than one run. */
export function rangeOf(figures: Figures, key: string): readonly [number, number] | undefined {
  return ranges.get(figures)?.[key];
}

/**
 * Each figure as the median of the runs (`perRun`: the figures each run emitted, in order). Rows
 * are matched by bench and by their place among that bench's rows in the run; a number is the
 * median of the runs that gave one (the mean of the middle two for an even count), with its range
 * kept for rangeOf; anything else (labels, lists) is the first run's.
 */
export function medianOfRuns(perRun: readonly (readonly Figures[])[]): Figures[] {
  const rows = new Map<string, Figures[]>();
  for (const run of perRun) {
    const seen = new Map<string, number>();
    for (const figures of run) {
      const n = seen.get(figures.bench) ?? 0;
      seen.set(figures.bench, n + 1);
      const key = `${figures.bench}#${n}`;
      rows.set(key, [...(rows.get(key) ?? []), figures]);
    }
  }
  return [...rows.values()].map((same) => {
    const merged: Record<string, Figure> = { ...same[0]! };
    const range: Record<string, readonly [number, number]> = {};
    for (const key of Object.keys(merged)) {
      const values = same.map((f) => f[key]).filter((v): v is number => typeof v === "number");
      if (values.length === 0) continue;
      values.sort((a, b) => a - b);
      const mid = values.length >> 1;
      merged[key] = values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
      if (values.length > 1) range[key] = [values[0]!, values.at(-1)!];
    }
    const result = merged as unknown as Figures;
    ranges.set(result, range);
    return result;
  });
}
