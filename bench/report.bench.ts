/**
 * Monthly report at Klarna scale: the shipped profile's probes (13 every 30 s, one every 5 min)
 * over October 2026, about 1.17M results with a few outages, imported into a real evidence store;
 * then buildMonthlyReport and each renderer timed on it, and beside the verified report the report
 * floor (bench/peers/report-floor.ts): only what contract section 7 requires, on the same store.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock } from "../src/clock/fake.js";
import { loadConfig } from "../src/config/index.js";
import type { ProbeResult, ProbeSpec, SloConfig } from "../src/model/index.js";
import { DAY_MS, monthInterval } from "../src/model/time.js";
import { EVIDENCE_FILE, type EvidenceStore, openEvidenceStore } from "../src/record/index.js";
import { buildMonthlyReport, renderReport, TEXT_FORMATS } from "../src/reports/index.js";
import { createRng } from "../src/sim/rng.js";
import { emit, round } from "./figures.js";
import {
  type FloorOutcome,
  type FloorStage,
  floorRange,
  openStore,
  reportFloor,
  reportFloorPipelined,
  reportFloorTwoReaders,
} from "./peers/report-floor.js";

const MONTH = "2026-10";
const PERIOD = monthInterval(MONTH);
const MINUTE = 60_000;

/** Deterministic PRNG (the simulator's mulberry32) so every run measures the same month. */
function prng(seed: number): () => number {
  return createRng(seed).next;
}

/** Outages of the month: [category, start, minutes, what the probe saw]. */
const OUTAGES: readonly [string, number, number, "503" | "timeout" | "reset"][] = [
  ["payment_request", PERIOD.start + 4 * DAY_MS + 14 * 60 * MINUTE, 40, "503"],
  ["settlements", PERIOD.start + 13 * DAY_MS + 2 * 60 * MINUTE, 120, "timeout"],
  ["identity", PERIOD.start + 21 * DAY_MS + 9 * 60 * MINUTE, 25, "reset"],
  ["disputes", PERIOD.start + 27 * DAY_MS + 18 * 60 * MINUTE, 600, "503"],
];

function outageAt(category: string, ts: number): "503" | "timeout" | "reset" | null {
  for (const [c, start, minutes, kind] of OUTAGES) {
    if (c === category && ts >= start && ts < start + minutes * MINUTE) return kind;
  }
  return null;
}

function resultOf(probe: ProbeSpec, ts: number, random: () => number): ProbeResult {
  const outage = outageAt(probe.category, ts);
  const roll = random();
  // Log-normal around 40 ms (p99 near 130 ms), in whole microseconds as a probe measures them.
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const latency = Math.round(40_000 * Math.exp(0.5 * z)) / 1000;
  const base = { ts, probe: probe.id, category: probe.category, errorCode: null, correlationId: null };
  if (outage === "timeout") return { ...base, status: null, durationMs: probe.timeoutMs, error: "timeout" };
  if (outage === "reset") return { ...base, status: null, durationMs: 3, error: "reset" };
  const status = outage === "503" || roll > 0.9995 ? 503 : roll < 0.02 ? 404 : 200;
  const coded = status === 200 ? {} : { errorCode: status === 404 ? "NOT_FOUND" : "TEMPORARILY_UNAVAILABLE" };
  const correlationId = status === 200 ? null : `corr-${ts}-${probe.id}`;
  return { ...base, ...coded, correlationId, status, durationMs: latency, error: null };
}

/** One UTC day of every probe's runs, in chain order (ts, then probe). */
function dayOfResults(config: SloConfig, day: number, random: () => number): ProbeResult[] {
  const results: ProbeResult[] = [];
  const from = PERIOD.start + day * DAY_MS;
  const probes = [...config.probes].sort((a, b) => (a.id < b.id ? -1 : 1));
  for (let t = from; t < from + DAY_MS; t += 30_000) {
    for (const probe of probes) {
      const every = probe.schedule.kind === "every" ? probe.schedule.intervalMs : 30_000;
      if ((t - from) % every === 0) results.push(resultOf(probe, t, random));
    }
  }
  return results;
}

/** Imports the bench month into a new store in dataDir; exported for profiling by hand. */
export function importMonth(config: SloConfig, dataDir: string): number {
  const store = openEvidenceStore({ dataDir, clock: new FakeClock(PERIOD.end + DAY_MS), logger: () => {} });
  const random = prng(6);
  let total = 0;
  try {
    for (let day = 0; day < Math.round((PERIOD.end - PERIOD.start) / DAY_MS); day++) {
      total += store.importResults(dayOfResults(config, day, random)).imported;
    }
  } finally {
    store.close();
  }
  return total;
}

/** The profile with every probe run `copies` times over (ids `probe~k`): a larger merchant's month. */
function scaled(config: SloConfig, copies: number): SloConfig {
  if (copies === 1) return config;
  const probes = config.probes.flatMap((p) =>
    Array.from({ length: copies }, (_, k) => (k === 0 ? p : { ...p, id: `${p.id}~${k}` })),
  );
  return { ...config, probes };
}

/**
 * Where a report's time goes: reading the month's rows alone (no report work: the floor the
 * store sets), and the evidence digest (hashes read in chain order), each timed apart.
 */
function buildParts(store: EvidenceStore, config: SloConfig) {
  const categories = [...config.categories.keys()];
  let t = performance.now();
  let rows = 0;
  for (const _ of store.results({ from: PERIOD.start, to: PERIOD.end, categories })) rows++;
  const readSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  store.chainHead({ from: PERIOD.start, to: PERIOD.end });
  const digestSeconds = (performance.now() - t) / 1000;
  return { rows, read_rows_seconds: round(readSeconds), digest_seconds: round(digestSeconds) };
}

/** Runs `work`: its value, wall seconds and this process's CPU seconds (steadier on a shared box). */
function timed<T>(work: () => T): { value: T; seconds: number; cpu: number | null } {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const value = work();
  return { value, seconds: (performance.now() - t) / 1000, cpu: cpuSeconds(cpu) };
}

/** The figures of a timed pass over `results` results. */
function rateOf(results: number, pass: { seconds: number; cpu: number | null }) {
  return {
    seconds: round(pass.seconds),
    results_per_s: Math.round(results / pass.seconds),
    cpu_seconds: pass.cpu,
  };
}

/** This process's CPU seconds (user + system) since `since`: steadier than wall time on a shared box. */
function cpuSeconds(since: NodeJS.CpuUsage): number | null {
  const used = process.cpuUsage(since);
  return round((used.user + used.system) / 1e6);
}

/**
 * What `slo-agent report` waits for: the month's evidence verified (links, every record
 * re-hashed, the digest) with the report built in the same read; and the verification alone.
 */
function cliPath(
  store: EvidenceStore,
  config: SloConfig,
  results: number,
): { seconds: number; cpu: number | null } {
  const period = { from: PERIOD.start, to: PERIOD.end };
  let missed: readonly string[] = [];
  const cli = timed(() =>
    store.verifyPeriod(period, (verified) => {
      const report = buildMonthlyReport({ config, store, month: MONTH, now: PERIOD.end + DAY_MS, verified });
      missed = report.summary.missed;
    }),
  );
  const verifyAlone = timed(() => store.verifyPeriod(period));
  const verification = cli.value;
  emit({
    bench: "report.cli_path",
    results,
    ...rateOf(results, cli),
    verify_alone_seconds: round(verifyAlone.seconds),
    verify_alone_cpu_seconds: verifyAlone.cpu,
    verified: verification.problem === null,
    missed,
  });
  return cli;
}

/** The floor's outcome on an intact month: every record found, every hash and link holding. */
function intact(floor: FloorOutcome, results: number, what: string): FloorOutcome {
  if (floor.mismatches !== 0 || floor.brokenLinks !== 0 || floor.records !== results) {
    throw new Error(
      `report floor (${what}) disagrees with the agent on an intact month: ${JSON.stringify(floor)}`,
    );
  }
  return floor;
}

/**
 * The report floor (bench/peers/report-floor.ts): only what contract section 7 requires of
 * `report` — every record of the month re-hashed, the links into and out of it checked — on the
 * same store, beside the agent's verified report (`cli`); and its parts, each a pass of its own:
 * the period's seq range (the ts index), stepping the rows with the needed columns only, + building
 * each canonical form, + SHA-256 and the checks (= the floor). Then two two-core variants: a
 * worker thread hashing while this one steps (`pipelined`), and two readers each walking half the
 * month on its own connection (`two_readers`: no shared snapshot, so a figure, not a design).
 * CPU seconds are the whole process's (both threads).
 */
async function floorFigures(dataDir: string, results: number, cli: { seconds: number; cpu: number | null }) {
  const path = join(dataDir, EVIDENCE_FILE);
  const db = openStore(path);
  const stage = (s: FloorStage) =>
    timed(() => intact(reportFloor(db, PERIOD.start, PERIOD.end, s), results, s));
  let range: ReturnType<typeof timed<number>>;
  let step: ReturnType<typeof stage>;
  let canonical: ReturnType<typeof stage>;
  let floor: ReturnType<typeof stage>;
  try {
    range = timed(() => floorRange(db, PERIOD.start, PERIOD.end));
    step = stage("step");
    canonical = stage("canonical");
    floor = stage("verify");
  } finally {
    db.close();
  }
  emit({
    bench: "report.floor",
    results,
    walked: floor.value.walked,
    ...rateOf(results, floor),
    range_seconds: round(range.seconds),
    step_seconds: round(step.seconds),
    step_cpu_seconds: step.cpu,
    canonical_seconds: round(canonical.seconds),
    canonical_cpu_seconds: canonical.cpu,
    cli_over_floor: round(cli.seconds / floor.seconds, 2),
    mismatches: floor.value.mismatches,
  });
  const pipelined = await timedAsync(() => reportFloorPipelined(path, PERIOD.start, PERIOD.end));
  const twoReaders = await timedAsync(() => reportFloorTwoReaders(path, PERIOD.start, PERIOD.end));
  intact(pipelined.value, results, "pipelined");
  intact(twoReaders.value, results, "two readers");
  emit({
    bench: "report.floor_two_cores",
    results,
    pipelined_seconds: round(pipelined.seconds),
    pipelined_cpu_seconds: pipelined.cpu,
    two_readers_seconds: round(twoReaders.seconds),
    two_readers_cpu_seconds: twoReaders.cpu,
  });
}

/** timed, for work that awaits (worker threads): wall seconds and the whole process's CPU seconds. */
async function timedAsync<T>(
  work: () => Promise<T>,
): Promise<{ value: T; seconds: number; cpu: number | null }> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const value = await work();
  return { value, seconds: (performance.now() - t) / 1000, cpu: cpuSeconds(cpu) };
}

/**
 * The months imported so far, by copies: `npm run bench -- --runs 3` imports each once (its time
 * is a figure of the first run) and times the report on it in every run. Removed when the process
 * exits.
 */
const imported = new Map<number, { dir: string; results: number }>();
process.on("exit", () => {
  for (const { dir } of imported.values()) rmSync(dir, { recursive: true, force: true });
});

function importedMonth(config: SloConfig, copies: number): { dir: string; results: number } {
  const known = imported.get(copies);
  if (known) return known;
  const dir = mkdtempSync(join(tmpdir(), "slo-report-bench-"));
  const t0 = performance.now();
  const results = importMonth(config, join(dir, "data"));
  const importSeconds = (performance.now() - t0) / 1000;
  emit({ bench: "report.month_import", results, seconds: round(importSeconds) });
  imported.set(copies, { dir, results });
  return { dir, results };
}

/**
 * Imports a month of `copies` x the profile's probes (once a process) and times the report on it,
 * then the report floor on the same store.
 */
async function monthFigures(profile: SloConfig, copies: number, renderFormats: boolean): Promise<void> {
  const config = scaled(profile, copies);
  const { dir, results } = importedMonth(config, copies);
  const store = openEvidenceStore({ dataDir: join(dir, "data"), clock: new FakeClock(PERIOD.end) });
  let cli: { seconds: number; cpu: number | null };
  try {
    const build = timed(() => buildMonthlyReport({ config, store, month: MONTH, now: PERIOD.end + DAY_MS }));
    const report = build.value;
    emit({
      bench: "report.build",
      results,
      ...rateOf(results, build),
      incidents: report.incidents.length,
      missed: report.summary.missed,
    });
    emit({ bench: "report.build_parts", results, ...buildParts(store, config) });
    cli = cliPath(store, config, results);
    if (renderFormats) {
      for (const format of TEXT_FORMATS) {
        const r = performance.now();
        const text = renderReport(report, format);
        const renderSeconds = (performance.now() - r) / 1000;
        emit({ bench: `report.render_${format}`, seconds: round(renderSeconds), bytes: text.length });
      }
    }
  } finally {
    store.close();
  }
  await floorFigures(join(dir, "data"), results, cli);
}

/** The shipped profile's month (1.17M results), then 2x and 3x of it (2.3M, 3.5M) unless quick. */
export async function run(options: { quick?: boolean } = {}): Promise<void> {
  const { config } = await loadConfig(join(import.meta.dirname, "..", "slo.yaml"), { env: {} });
  for (const copies of options.quick ? [1] : [1, 2, 3]) await monthFigures(config, copies, copies === 1);
}
