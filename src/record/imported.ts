import type Database from "better-sqlite3";
import type { EpochMs } from "../model/time.js";
import { hasInputLog } from "./evidence/input-log.js";
import { RollupsDisagreeError } from "./runs-error.js";
import { storedRuns } from "./signed-runs.js";

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
  /** Of those, records between two consecutive runs the agent measured itself (same probe or category, and agent). */
  readonly interleaved: number;
}

export interface ImportedRecords {
  readonly records: number;
  readonly interleaved: number;
  /** The first interleaved record's seq; null when none. */
  readonly firstInterleavedSeq: number | null;
  /** In category order. */
  readonly byCategory: readonly ImportedCategory[];
  /** Imported records under probe ids the configuration does not have, per id in id order. */
  readonly unconfiguredProbes: readonly {
    readonly probe: string;
    readonly category: string;
    readonly records: number;
  }[];
}

interface ResultRow {
  readonly seq: number;
  readonly ts: number;
  readonly probe: string;
  readonly agent: string;
  readonly category: string;
}

/** An agent's last measured result of a probe (or of a category), and the imported records after it. */
interface Run {
  readonly measuredAt: number;
  readonly interval: number;
  readonly pending: ResultRow[];
}

/**
 * The records of [from, to) that `slo-agent import` stored (the seq ranges its `import` input
 * records name), and those of them that interleave with the agent's own results: between two
 * measured results of the same probe and agent less than CONSECUTIVE_RUNS_WITHIN of the probe's
 * interval apart (`intervalOf`; null for a probe the configuration does not have), or between two
 * of the same category and agent less than that of the shorter of their probes' intervals apart --
 * an imported result under a made-up probe id of the category, placed while the agent measured
 * the category, is no honest backfill either (AUDIT-23e finding 6). Also one of a category dated
 * inside one of the agent's signed runs (its `run_start` to its `run_end`, or a crashed run's last
 * sign of life) in which the agent stored results of that category itself: at a run's head or
 * tail, before the category's first own result or after its last, no two own results enclose it
 * (AUDIT-23f finding 3). Null when no import stored
 * records of the period. A store imported into before imports were recorded shows its records as
 * measured.
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
  const records = new Map<string, number>();
  const unconfigured = new Map<string, { category: string; records: number }>();
  const interleaved = new Map<number, string>();
  const runs = new Map<string, Run>();
  const agentRuns = signedRunsOf(db);
  // Per signed run: the category+agent keys it measured itself, and the imported rows dated in it.
  const measuredIn = agentRuns.map(() => new Set<string>());
  const importedIn = agentRuns.map((): ResultRow[] => []);
  let current = 0;
  const rows = db
    .prepare(
      "SELECT seq, ts, probe, ifnull(agent, '') AS agent, category FROM results WHERE ts >= ? AND ts < ? ORDER BY ts, seq",
    )
    .iterate(from, to) as Iterable<ResultRow>;
  for (const row of rows) {
    const keys = [`probe\n${row.probe}\n${row.agent}`, `category\n${row.category}\n${row.agent}`];
    while (current < agentRuns.length && agentRuns[current]!.end < row.ts) current++;
    const inRun = current < agentRuns.length && agentRuns[current]!.start <= row.ts ? current : null;
    if (inRun !== null) {
      if (imported(row.seq)) importedIn[inRun]!.push(row);
      else measuredIn[inRun]!.add(keys[1]!);
    }
    if (imported(row.seq)) {
      records.set(row.category, (records.get(row.category) ?? 0) + 1);
      if (intervalOf(row.probe) === null) {
        const named = unconfigured.get(row.probe) ?? { category: row.category, records: 0 };
        unconfigured.set(row.probe, { ...named, records: named.records + 1 });
      }
      for (const key of keys) runs.get(key)?.pending.push(row);
      continue;
    }
    // A probe the configuration does not schedule (any more) tells nothing of the agent's runs.
    const interval = intervalOf(row.probe);
    if (interval === null) continue;
    for (const key of keys) {
      const run = runs.get(key);
      if (run && row.ts - run.measuredAt < CONSECUTIVE_RUNS_WITHIN * Math.min(interval, run.interval))
        for (const r of run.pending) interleaved.set(r.seq, r.category);
      runs.set(key, { measuredAt: row.ts, interval, pending: [] });
    }
  }
  for (const [i, rows] of importedIn.entries())
    for (const row of rows)
      if (measuredIn[i]!.has(`category\n${row.category}\n${row.agent}`))
        interleaved.set(row.seq, row.category);
  return summary(records, interleaved, unconfigured);
}

/** The agent's signed runs as [start, end] (a crashed or running one ends at its last sign of life), by start. */
function signedRunsOf(db: Database.Database): { start: number; end: number }[] {
  try {
    return storedRuns(db)
      .filter((run) => run.signed)
      .map((run) => ({ start: run.start, end: run.end ?? run.lastSeen }))
      .sort((a, b) => a.start - b.start);
  } catch (error) {
    // Pruned rollups that disagree with their commitment fail verification on their own.
    if (error instanceof RollupsDisagreeError) return [];
    throw error;
  }
}

function summary(
  records: ReadonlyMap<string, number>,
  interleaved: ReadonlyMap<number, string>,
  unconfigured: ReadonlyMap<string, { category: string; records: number }>,
): ImportedRecords | null {
  const byOrder = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);
  const perCategory = new Map<string, number>();
  let firstInterleavedSeq: number | null = null;
  for (const [seq, category] of interleaved) {
    perCategory.set(category, (perCategory.get(category) ?? 0) + 1);
    firstInterleavedSeq = Math.min(firstInterleavedSeq ?? seq, seq);
  }
  const byCategory = [...records]
    .sort(byOrder)
    .map(([category, n]) => ({ category, records: n, interleaved: perCategory.get(category) ?? 0 }));
  if (byCategory.length === 0) return null;
  return {
    records: byCategory.reduce((sum, c) => sum + c.records, 0),
    interleaved: interleaved.size,
    firstInterleavedSeq,
    byCategory,
    unconfiguredProbes: [...unconfigured].sort(byOrder).map(([probe, p]) => ({ probe, ...p })),
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
