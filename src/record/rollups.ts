import type Database from "better-sqlite3";
import {
  countsForLatency,
  FAILURE_REASONS,
  type FailureReason,
  type ProbeResult,
  STATUS_CLASSES,
  type StatusClass,
  statusClassOf,
} from "../model/result.js";
import { MINUTE_MS } from "../model/time.js";
import type { LatencyHistogram } from "../slo/histogram.js";
import type { MinuteRollup } from "../slo/tally.js";
import { forEachValue, histogramOfBlob, mergeLatencyBlobs, SparseLatency } from "./latency-blob.js";

/**
 * A stored rollup of one probe: the slo layer's MinuteRollup plus the probe and error reasons.
 * Older than minuteRollupDays it covers a whole hour (spanMs 3 600 000) and `minute` is the hour's start.
 */
export interface StoredRollup extends MinuteRollup {
  readonly probe: string;
  /** How long the row covers from `minute`: 60 000 (a minute) or 3 600 000 (a compacted hour). */
  readonly spanMs: number;
  /** Requests without a response, by reason (non-excluded only). */
  readonly errors: Readonly<Record<FailureReason, number>>;
}

export interface RollupQuery {
  readonly from: number;
  readonly to: number;
  readonly probes?: readonly string[];
  readonly categories?: readonly string[];
}

/** Decides, when a result is stored, whether maintenance or an exclusion covers it. */
export type ExclusionJudge = (result: ProbeResult) => boolean;

/** The duration a result counts at in latency, or null (model/result.ts latencyMsOf with the probe's timeout). */
export type LatencyOf = (result: ProbeResult) => number | null;

const LATENCY_AS_RECORDED: LatencyOf = (result) => (countsForLatency(result) ? result.durationMs : null);

interface MinuteTotals {
  readonly probe: string;
  readonly category: string;
  readonly minute: number;
  /** In COUNT_COLUMNS order: status classes, error reasons, excluded. */
  readonly counts: number[];
  readonly latency: SparseLatency;
}

const CLASS_COLUMNS = STATUS_CLASSES.map((c) => `count_${c}`);
const ERROR_COLUMNS = FAILURE_REASONS.map((r) => `err_${r}`);
export const COUNT_COLUMNS = [...CLASS_COLUMNS, ...ERROR_COLUMNS, "excluded"];
const CLASS_INDEX = new Map<StatusClass, number>(STATUS_CLASSES.map((c, i) => [c, i]));
const ERROR_INDEX = new Map<FailureReason, number>(
  FAILURE_REASONS.map((r, i) => [r, STATUS_CLASSES.length + i]),
);
const EXCLUDED_INDEX = COUNT_COLUMNS.length - 1;

const ROLLUP_ROW = `(?, ?, ?, ${COUNT_COLUMNS.map(() => "?").join(", ")}, ?)`;
const ROLLUP_PARAMS = COUNT_COLUMNS.length + 4;
/** Probe-minutes per upsert statement: an import has about one per two results, so one statement each was a sixth of its write. */
const UPSERT_ROWS = 32;

function upsertSql(rows: number): string {
  return `INSERT INTO rollups (probe, minute, category, ${COUNT_COLUMNS.join(", ")}, latency)
  VALUES ${Array(rows).fill(ROLLUP_ROW).join(", ")}
  ON CONFLICT (minute, probe) DO UPDATE SET
  ${COUNT_COLUMNS.map((c) => `${c} = rollups.${c} + excluded.${c}`).join(",\n  ")},
  latency = merge_latency(rollups.latency, excluded.latency)`;
}

/** Registers the SQL functions rollups merge latency with; call once per writer connection. */
export function registerRollupFunctions(db: Database.Database): void {
  db.function("merge_latency", { deterministic: true }, (a: Uint8Array | null, b: Uint8Array | null) =>
    mergeLatencyBlobs(a, b),
  );
  db.aggregate("merge_latency_all", {
    start: () => new SparseLatency(),
    step: (sum: SparseLatency, blob: unknown) => {
      if (blob instanceof Uint8Array) forEachValue(blob, (us, count) => sum.add(us, count));
      return sum;
    },
    result: (sum: SparseLatency) => (sum.count === 0 ? null : sum.encode()),
  });
}

/**
 * Sums results per probe-minute in memory, then adds the sums to the stored rows in one pass:
 * one upsert per probe-minute instead of one per result.
 */
export class RollupAccumulator {
  /** Minute -> probe -> totals: results come in ts order, so the outer lookup mostly hits the last minute. */
  readonly #minutes = new Map<number, Map<string, MinuteTotals>>();
  #lastMinute = Number.NaN;
  #lastProbes: Map<string, MinuteTotals> | null = null;
  #size = 0;
  /** The upserts, prepared once per connection: an import flushes hundreds of times. */
  #upserts: { db: Database.Database; many: Database.Statement; one: Database.Statement } | null = null;

  constructor(
    private readonly isExcluded: ExclusionJudge,
    private readonly latencyOf: LatencyOf = LATENCY_AS_RECORDED,
  ) {}

  /** Probe-minutes summed and not yet written. */
  get size(): number {
    return this.#size;
  }

  add(result: ProbeResult): void {
    const minute = result.ts - (((result.ts % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
    let probes = this.#lastProbes;
    if (minute !== this.#lastMinute || probes === null) {
      probes = this.#minutes.get(minute) ?? new Map<string, MinuteTotals>();
      this.#minutes.set(minute, probes);
      this.#lastMinute = minute;
      this.#lastProbes = probes;
    }
    let totals = probes.get(result.probe);
    if (!totals) {
      totals = emptyTotals(result.probe, result.category, minute);
      probes.set(result.probe, totals);
      this.#size++;
    }
    if (this.isExcluded(result)) {
      totals.counts[EXCLUDED_INDEX]!++;
      return;
    }
    totals.counts[CLASS_INDEX.get(statusClassOf(result.status))!]!++;
    if (result.error !== null) totals.counts[ERROR_INDEX.get(result.error)!]!++;
    const latencyMs = this.latencyOf(result);
    if (latencyMs !== null) totals.latency.record(latencyMs);
  }

  /** writeTo(), then forgets what it wrote: the stored rows add up, so sums may be written in parts. */
  flushTo(db: Database.Database): void {
    this.writeTo(db);
    this.#minutes.clear();
    this.#lastMinute = Number.NaN;
    this.#lastProbes = null;
    this.#size = 0;
  }

  /** Must run inside the write transaction that stored the results. */
  writeTo(db: Database.Database): void {
    if (this.#upserts?.db !== db) {
      this.#upserts = { db, many: db.prepare(upsertSql(UPSERT_ROWS)), one: db.prepare(upsertSql(1)) };
    }
    const { many: upsertMany, one: upsertOne } = this.#upserts;
    const params: unknown[] = new Array(UPSERT_ROWS * ROLLUP_PARAMS);
    let rows = 0;
    for (const probes of this.#minutes.values()) {
      for (const t of probes.values()) {
        fillRollupValues(params, rows * ROLLUP_PARAMS, t);
        if (++rows === UPSERT_ROWS) {
          upsertMany.run(params);
          rows = 0;
        }
      }
    }
    for (let row = 0; row < rows; row++) {
      upsertOne.run(params.slice(row * ROLLUP_PARAMS, (row + 1) * ROLLUP_PARAMS));
    }
  }
}

/** One probe-minute's upsert parameters, in upsertSql column order, from `at` on. */
function fillRollupValues(params: unknown[], at: number, t: MinuteTotals): void {
  params[at] = t.probe;
  params[at + 1] = t.minute;
  params[at + 2] = t.category;
  for (let i = 0; i < t.counts.length; i++) params[at + 3 + i] = t.counts[i];
  params[at + ROLLUP_PARAMS - 1] = t.latency.count === 0 ? null : t.latency.encode();
}

interface RollupRow {
  readonly probe: string;
  readonly minute: number;
  readonly category: string;
  readonly latency: Buffer | null;
  readonly [column: string]: unknown;
}

/** Stored rollups overlapping [from, to) in minute then probe order, streamed. */
export function* queryRollups(db: Database.Database, query: RollupQuery): Generator<StoredRollup> {
  const sql = `SELECT * FROM rollups WHERE minute >= ? AND minute < ?
    AND (? IS NULL OR probe IN (SELECT value FROM json_each(?)))
    AND (? IS NULL OR category IN (SELECT value FROM json_each(?)))
    ORDER BY minute, probe`;
  const probes = query.probes ? JSON.stringify(query.probes) : null;
  const categories = query.categories ? JSON.stringify(query.categories) : null;
  const from = Math.floor(query.from / MINUTE_MS) * MINUTE_MS;
  const rows = db.prepare(sql).iterate(from, query.to, probes, probes, categories, categories);
  for (const row of rows as Iterable<RollupRow>) yield rollupOfRow(row);
}

function rollupOfRow(row: RollupRow): StoredRollup {
  const byClass = Object.fromEntries(STATUS_CLASSES.map((c) => [c, Number(row[`count_${c}`])]));
  const errors = Object.fromEntries(FAILURE_REASONS.map((r) => [r, Number(row[`err_${r}`])]));
  let decoded: LatencyHistogram | null | undefined;
  return {
    probe: row.probe,
    category: row.category,
    minute: row.minute,
    spanMs: Number(row.span_ms ?? MINUTE_MS),
    byClass: byClass as Record<StatusClass, number>,
    errors: errors as Record<FailureReason, number>,
    excluded: Number(row.excluded),
    // Decoded on first use: building a histogram costs far more than reading the row.
    get latency(): LatencyHistogram | null {
      if (decoded === undefined) decoded = histogramOfBlob(row.latency);
      return decoded;
    },
  };
}

function emptyTotals(probe: string, category: string, minute: number): MinuteTotals {
  return {
    probe,
    category,
    minute,
    counts: new Array(COUNT_COLUMNS.length).fill(0),
    latency: new SparseLatency(),
  };
}
