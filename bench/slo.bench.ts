/**
 * SLA arithmetic figures: a month's report figures for 13 categories (from raw results and from
 * minute rollups), RollingWindows record and snapshot cost with 31 days of data, and why latency
 * comes from HDR: the error of Prometheus-style histogram_quantile over default buckets.
 */

import type { Category, ProbeResult, ServiceClass } from "../src/model/index.js";
import { createRng } from "../src/sim/rng.js";
import {
  type FiguresConfig,
  LatencyHistogram,
  type MinuteRollup,
  monthlyFigures,
  monthlyFiguresFromRollups,
  RollingWindows,
} from "../src/slo/index.js";
import { emit } from "./figures.js";

const MONTH_START = Date.UTC(2026, 9, 1);
const MONTH_MINUTES = 31 * 1440;

/** Deterministic PRNG (the simulator's mulberry32) so every run measures the same data. */
function prng(seed: number): () => number {
  return createRng(seed).next;
}

function logNormal(random: () => number, medianMs: number, sigma: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return medianMs * Math.exp(sigma * z);
}

const CLASS: ServiceClass = { id: "transaction_critical", title: "Critical", availabilityTarget: 0.99 };
const CATEGORIES: Category[] = Array.from({ length: 13 }, (_, i) => ({
  id: `category_${i}`,
  title: `Category ${i}`,
  serviceClass: CLASS.id,
  latencyP99Ms: 1500,
}));
const CONFIG: FiguresConfig = {
  serviceClasses: new Map([[CLASS.id, CLASS]]),
  categories: new Map(CATEGORIES.map((c) => [c.id, c])),
  maintenance: {
    policy: { minNoticeDays: 7, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
    windows: [
      {
        id: "mw-1",
        start: MONTH_START + 9 * 86_400_000,
        end: MONTH_START + 9 * 86_400_000 + 7_200_000,
        announcedAt: MONTH_START - 86_400_000 * 10,
        categories: "all",
      },
    ],
  },
  exclusions: [],
};

/** `perCategoryPerMinute` results a minute for each category over the month (0.3 gives ~180k). */
function monthOfResults(perCategoryPerMinute: number): ProbeResult[] {
  const random = prng(42);
  const results: ProbeResult[] = [];
  const stepMs = 60_000 / perCategoryPerMinute;
  for (const c of CATEGORIES) {
    for (let ts = MONTH_START + random() * stepMs; ts < MONTH_START + MONTH_MINUTES * 60_000; ts += stepMs) {
      const roll = random();
      const status = roll < 0.004 ? null : roll < 0.01 ? 503 : roll < 0.05 ? 404 : 200;
      results.push({
        ts: Math.floor(ts),
        probe: `${c.id}-probe`,
        category: c.id,
        status,
        durationMs: status === null ? 10_000 : logNormal(random, 180, 0.6),
        error: status === null ? "timeout" : null,
        errorCode: null,
        correlationId: null,
      });
    }
  }
  return results.sort((a, b) => a.ts - b.ts);
}

function timed<T>(work: () => T): { ms: number; value: T } {
  const start = performance.now();
  const value = work();
  return { ms: performance.now() - start, value };
}

function benchMonthly(results: ProbeResult[]): void {
  const raw = timed(() => monthlyFigures({ config: CONFIG, month: "2026-10", results }));
  emit({ bench: "slo.monthly_from_raw", categories: 13, results: results.length, ms: raw.ms });

  // Stored rollups hold one HDR histogram per minute; a pool stands in for them to keep memory sane.
  const random = prng(7);
  const pool = Array.from({ length: 256 }, () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 4; i++) h.record(logNormal(random, 180, 0.6));
    return h;
  });
  const rollups = function* (minutes: number): Generator<MinuteRollup> {
    for (let m = 0; m < minutes; m++) {
      for (const [i, c] of CATEGORIES.entries()) {
        const byClass = { "2xx": 4, "3xx": 0, "4xx": 0, "5xx": 0, none: 0 };
        yield {
          category: c.id,
          minute: MONTH_START + m * 60_000,
          byClass,
          excluded: 0,
          latency: pool[(m + i) % 256]!,
        };
      }
    }
  };
  // A whole month of minute merges takes too long to run here; one hour is measured and scaled.
  const hour = timed(() =>
    monthlyFiguresFromRollups({ config: CONFIG, month: "2026-10", rollups: rollups(60) }),
  );
  emit({
    bench: "slo.monthly_from_minute_rollups",
    categories: 13,
    rollups_measured: 60 * 13,
    ms_measured: hour.ms,
    ms_per_month_estimate: hour.ms * 24 * 31,
    note: "merging one HDR histogram per minute dominates; hour rollups or raw results are cheaper",
  });
}

function benchRolling(label: string, results: ProbeResult[]): void {
  const rolling = new RollingWindows(CONFIG);
  const heapBefore = process.memoryUsage().heapUsed;
  const record = timed(() => {
    for (const r of results) rolling.record(r);
  });
  const now = MONTH_START + MONTH_MINUTES * 60_000 - 1;
  rolling.prune(now);
  const heapAfter = process.memoryUsage().heapUsed;
  rolling.snapshot(now); // sorts bucket lists once, as the daemon's first snapshot would
  const rounds = 20;
  const snap = timed(() => {
    for (let i = 0; i < rounds; i++) rolling.snapshot(now + i * 10_000);
  });
  emit({
    bench: "slo.rolling_windows",
    load: label,
    categories: 13,
    results: results.length,
    record_ns_per_result: (record.ms * 1e6) / results.length,
    snapshot_ms: snap.ms / rounds,
    buckets: rolling.bucketCount,
    heap_growth_mb_incl_garbage: (heapAfter - heapBefore) / 1e6,
  });
}

/** Prometheus histogram_quantile: linear interpolation inside the bucket holding the rank. */
function histogramQuantile(q: number, bounds: readonly number[], values: readonly number[]): number {
  const counts = bounds.map((b) => values.filter((v) => v <= b).length);
  const total = values.length;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const below = i === 0 ? 0 : counts[i - 1]!;
      return lower + ((bounds[i]! - lower) * (rank - below)) / (counts[i]! - below);
    }
  }
  return bounds.at(-1)!; // beyond the last finite bucket Prometheus returns its upper bound
}

function benchQuantileError(): void {
  const bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  for (const [medianMs, sigma] of [
    [80, 0.5],
    [180, 0.6],
    [400, 0.8],
    [1200, 0.4],
  ] as const) {
    const random = prng(medianMs);
    const values = Array.from({ length: 100_000 }, () => logNormal(random, medianMs, sigma));
    const sorted = [...values].sort((a, b) => a - b);
    const exact = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
    const hdr = new LatencyHistogram();
    for (const v of values) hdr.record(v);
    const prom =
      histogramQuantile(
        0.99,
        bounds,
        values.map((v) => v / 1000),
      ) * 1000;
    emit({
      bench: "slo.p99_error",
      distribution: `lognormal(median=${medianMs}ms, sigma=${sigma})`,
      exact_p99_ms: exact,
      hdr_p99_ms: hdr.percentile(99),
      hdr_rel_error: (hdr.percentile(99)! - exact) / exact,
      histogram_quantile_p99_ms: prom,
      histogram_quantile_rel_error: (prom - exact) / exact,
    });
  }
}

export async function run(): Promise<void> {
  const monthly = monthOfResults(0.3);
  benchMonthly(monthly);
  benchRolling("0.3/min per category (~180k a month)", monthly);
  benchRolling("2/min per category (every 30 s)", monthOfResults(2));
  benchQuantileError();
}
