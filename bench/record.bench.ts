/**
 * Evidence store figures: import throughput (a month-sized NDJSON file through the same path as
 * `slo-agent import`, hash chain and rollups included), restart replay rate, live batch write rate,
 * and `verify` (--month and full) on a month at Klarna scale (report.bench's 1.17M results).
 */

import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock } from "../src/clock/fake.js";
import { systemClock } from "../src/clock/system.js";
import { loadConfig } from "../src/config/index.js";
import { DAY_MS } from "../src/model/time.js";
import { importResultFile, openEvidenceStore, readResultFile, verifyEvidence } from "../src/record/index.js";
import { generateResults, ndjsonLine } from "../test/record/results.js";
import { emit, round } from "./figures.js";
import { peakRssOf } from "./peers/process-stats.js";
import { importMonth } from "./report.bench.js";

const START = Date.UTC(2026, 9, 1);
const LINES = 180_000;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function importFigures(dir: string, file: string): Promise<void> {
  const store = openEvidenceStore({ dataDir: dir, clock: systemClock, logger: () => {} });
  const wall = performance.now();
  const cpu = cpuMs();
  const outcome = await importResultFile(store, file, { known: null, skipInvalid: false });
  const seconds = (performance.now() - wall) / 1000;
  const cpuSeconds = (cpuMs() - cpu) / 1000;
  store.close();
  emit({
    bench: "record.import",
    lines: LINES,
    imported: outcome.imported,
    seconds: round(seconds),
    records_per_s: Math.round(LINES / seconds),
    cpu_seconds: round(cpuSeconds),
    records_per_cpu_s: Math.round(LINES / cpuSeconds),
    file_mb: round(statSync(file).size / 1e6),
    db_mb: round(statSync(join(dir, "evidence.sqlite")).size / 1e6),
  });
  const again = openEvidenceStore({ dataDir: dir, clock: systemClock, logger: () => {} });
  const t = performance.now();
  const repeat = await importResultFile(again, file, { known: null, skipInvalid: false });
  const repeatSeconds = (performance.now() - t) / 1000;
  again.close();
  emit({
    bench: "record.reimport",
    already_present: repeat.alreadyPresent,
    seconds: round(repeatSeconds),
    records_per_s: Math.round(LINES / repeatSeconds),
  });
}

/** The two halves of an import apart: reading and checking the file, then chaining and writing. */
async function importPhaseFigures(dir: string, file: string): Promise<void> {
  let t = performance.now();
  const { results } = await readResultFile(file, null);
  const readSeconds = (performance.now() - t) / 1000;
  const store = openEvidenceStore({ dataDir: dir, clock: systemClock, logger: () => {} });
  t = performance.now();
  store.importResults(results);
  const writeSeconds = (performance.now() - t) / 1000;
  store.close();
  emit({
    bench: "record.import_phases",
    read_and_check_per_s: Math.round(LINES / readSeconds),
    chain_and_write_per_s: Math.round(LINES / writeSeconds),
    read_seconds: round(readSeconds),
    write_seconds: round(writeSeconds),
  });
}

function replayFigures(dir: string): void {
  const store = openEvidenceStore({
    dataDir: dir,
    clock: new FakeClock(START + 31 * DAY_MS),
    logger: () => {},
  });
  const t = performance.now();
  let n = 0;
  for (const _ of store.results({ from: START, to: START + 31 * DAY_MS })) n++;
  const seconds = (performance.now() - t) / 1000;
  const v = performance.now();
  const verified = store.verify({ month: "2026-10" });
  const verifySeconds = (performance.now() - v) / 1000;
  store.close();
  emit({
    bench: "record.replay",
    results: n,
    seconds: round(seconds),
    results_per_s: Math.round(n / seconds),
  });
  emit({
    bench: "record.verify_month",
    records: verified.records,
    ok: verified.ok,
    seconds: round(verifySeconds),
    records_per_s: Math.round(verified.records / verifySeconds),
  });
}

/** The daemon's path: record() one at a time, committed in batches of whatever accumulated. */
function batchFigures(dir: string): void {
  const clock = new FakeClock(START);
  const store = openEvidenceStore({ dataDir: dir, clock, logger: () => {} });
  const total = 50_000;
  const perBatch = 500;
  const results = generateResults(START + 40 * DAY_MS, total);
  const t = performance.now();
  for (let i = 0; i < total; i += perBatch) {
    for (let j = 0; j < perBatch; j++) store.record(results.next().value!);
    clock.advance(200);
  }
  const seconds = (performance.now() - t) / 1000;
  store.close();
  emit({
    bench: "record.batch_write",
    results: total,
    per_batch: perBatch,
    seconds: round(seconds),
    results_per_s: Math.round(total / seconds),
    ms_per_batch: round((seconds * 1000 * perBatch) / total),
  });
}

/** `slo-agent verify --month 2026-10`, then full `verify`, on 14 probes every 30 s for a month. */
async function largeVerifyFigures(dir: string): Promise<void> {
  const { config } = await loadConfig(join(import.meta.dirname, "..", "slo.yaml"), { env: {} });
  const results = importMonth(config, dir);
  for (const [bench, options] of [
    ["record.verify_month_large", { month: "2026-10" }],
    ["record.verify_full_large", {}],
  ] as const) {
    const t = performance.now();
    const outcome = verifyEvidence(dir, options);
    const seconds = (performance.now() - t) / 1000;
    emit({
      bench,
      results,
      records: outcome.records,
      ok: outcome.ok,
      seconds: round(seconds),
      records_per_s: Math.round(outcome.records / seconds),
    });
  }
}

/** `slo-agent import` as users run it, in a process of its own: rate and peak RSS. */
async function cliImportFigures(dataDir: string, file: string): Promise<void> {
  const main = join(import.meta.dirname, "../dist/cli/main.js");
  const run = await peakRssOf(process.execPath, [
    main,
    "import",
    "--allow-unknown",
    "--data-dir",
    dataDir,
    file,
  ]);
  emit({
    bench: "record.import_cli",
    lines: LINES,
    exit: run.code,
    seconds: round(run.seconds),
    records_per_s: Math.round(LINES / run.seconds),
    peak_rss_mb: round(run.peakMb, 1),
  });
}

/** The bound: a 2M-line import within 200 MB RSS (the test checks 200k and 600k lines). */
const LARGE_IMPORT_LINES = 2_000_000;

async function largeCliImportFigures(dir: string): Promise<void> {
  const file = join(dir, "large.ndjson");
  const fd = openSync(file, "w");
  let buffer = "";
  for (const result of generateResults(START, LARGE_IMPORT_LINES)) {
    buffer += `${ndjsonLine(result)}\n`;
    if (buffer.length > 1 << 20) {
      writeSync(fd, buffer);
      buffer = "";
    }
  }
  writeSync(fd, buffer);
  closeSync(fd);
  const main = join(import.meta.dirname, "../dist/cli/main.js");
  const run = await peakRssOf(process.execPath, [
    main,
    "import",
    "--allow-unknown",
    "--data-dir",
    join(dir, "large"),
    file,
  ]);
  emit({
    bench: "record.import_cli_2m",
    lines: LARGE_IMPORT_LINES,
    exit: run.code,
    seconds: round(run.seconds),
    records_per_s: Math.round(LARGE_IMPORT_LINES / run.seconds),
    peak_rss_mb: round(run.peakMb, 1),
  });
  rmSync(file);
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "slo-bench-record-"));
  try {
    const file = join(dir, "month.ndjson");
    writeFileSync(file, `${[...generateResults(START, LINES)].map(ndjsonLine).join("\n")}\n`);
    const storeDir = join(dir, "store");
    await importFigures(storeDir, file);
    await cliImportFigures(join(dir, "cli"), file);
    await largeCliImportFigures(dir);
    replayFigures(storeDir);
    batchFigures(join(dir, "batch"));
    await importPhaseFigures(join(dir, "phases"), file);
    await largeVerifyFigures(join(dir, "large"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
