import type Database from "better-sqlite3";
import type { EpochMs } from "../model/time.js";
import { hasInputLog } from "./evidence/input-log.js";

/**
 * Two of a probe's own runs less than this many intervals apart are consecutive runs of its
 * schedule (a late run comes a little early or late, a missed one leaves two intervals): a result
 * of the same probe and agent between them cannot be one of the agent's own.
 */
export const CONSECUTIVE_RUNS_WITHIN = 1.5;

export interface ImportedCategory {
  readonly category: string;
  /** Records of the month that an `import` stored. */
  readonly records: number;
  /** Of those, records between two consecutive runs the agent measured itself (same probe and agent). */
  readonly interleaved: number;
}

export interface ImportedRecords {
  readonly records: number;
  readonly interleaved: number;
  /** The first interleaved record's seq; null when none. */
  readonly firstInterleavedSeq: number | null;
  /** In category order. */
  readonly byCategory: readonly ImportedCategory[];
}

/**
 * The records of [from, to) that `slo-agent import` stored (the seq ranges its `import` input
 * records name), and those of them that interleave with the agent's own results: between two
 * measured results of the same probe and agent less than CONSECUTIVE_RUNS_WITHIN of the probe's
 * interval apart (`intervalOf`; null for a probe the configuration does not schedule). Null when
 * no import stored records of the period. A store imported into before imports were recorded
 * shows its records as measured.
 */
export function importedRecordsOf(
  db: Database.Database,
  from: EpochMs,
  to: EpochMs,
  intervalOf: (probe: string) => number | null,
): ImportedRecords | null {
  const ranges = importedRanges(db, from, to);
  if (ranges.length === 0) return null;
  const imported = (seq: number) => ranges.some(([first, last]) => seq >= first && seq <= last);
  const counts = new Map<string, { records: number; interleaved: number }>();
  const countOf = (category: string) => {
    const count = counts.get(category) ?? { records: 0, interleaved: 0 };
    counts.set(category, count);
    return count;
  };
  /** Per probe and agent: its last measured result, and the imported ones after it. */
  const runs = new Map<string, { measuredAt: number; pending: number; firstSeq: number }>();
  let firstInterleavedSeq: number | null = null;
  const rows = db
    .prepare(
      "SELECT seq, ts, probe, ifnull(agent, '') AS agent, category FROM results WHERE ts >= ? AND ts < ? ORDER BY ts, seq",
    )
    .iterate(from, to) as Iterable<{
    seq: number;
    ts: number;
    probe: string;
    agent: string;
    category: string;
  }>;
  for (const row of rows) {
    const key = `${row.probe}\n${row.agent}`;
    const run = runs.get(key);
    if (imported(row.seq)) {
      countOf(row.category).records++;
      if (run && run.pending++ === 0) run.firstSeq = row.seq;
      continue;
    }
    const interval = intervalOf(row.probe);
    if (
      run &&
      run.pending > 0 &&
      interval !== null &&
      row.ts - run.measuredAt < CONSECUTIVE_RUNS_WITHIN * interval
    ) {
      countOf(row.category).interleaved += run.pending;
      firstInterleavedSeq = Math.min(firstInterleavedSeq ?? run.firstSeq, run.firstSeq);
    }
    runs.set(key, { measuredAt: row.ts, pending: 0, firstSeq: 0 });
  }
  const byCategory = [...counts]
    .filter(([, count]) => count.records > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([category, count]) => ({ category, ...count }));
  if (byCategory.length === 0) return null;
  return {
    records: byCategory.reduce((sum, c) => sum + c.records, 0),
    interleaved: byCategory.reduce((sum, c) => sum + c.interleaved, 0),
    firstInterleavedSeq,
    byCategory,
  };
}

/** The seq ranges of the imports that stored records dated inside [from, to). */
export function importedRanges(db: Database.Database, from: EpochMs, to: EpochMs): [number, number][] {
  if (!hasInputLog(db)) return [];
  const rows = db
    .prepare("SELECT payload FROM input_records WHERE kind = 'import' ORDER BY seq")
    .pluck()
    .all() as string[];
  return rows.flatMap((text) => {
    const p = JSON.parse(text) as { first_seq: number; last_seq: number; first_ts: string; last_ts: string };
    const overlaps = Date.parse(p.first_ts) < to && Date.parse(p.last_ts) >= from;
    return overlaps ? [[p.first_seq, p.last_seq] as [number, number]] : [];
  });
}
