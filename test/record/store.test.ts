import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/result.js";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../src/model/time.js";
import {
  type EvidenceStore,
  type EvidenceStoreOptions,
  openEvidenceStore,
  type StoredRollup,
} from "../../src/record/index.js";
import { generateResults } from "./results.js";

const START = Date.UTC(2026, 9, 1);
const dirs: string[] = [];
const stores: EvidenceStore[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-record-"));
  dirs.push(dir);
  return dir;
}

function open(dataDir: string, clock: FakeClock, extra: Partial<EvidenceStoreOptions> = {}): EvidenceStore {
  const store = openEvidenceStore({ dataDir, clock, logger: () => {}, ...extra });
  stores.push(store);
  return store;
}

function ok(ts: number, probe = "payment-request-read", durationMs = 100): ProbeResult {
  return {
    ts,
    probe,
    category: "payment_request",
    status: 200,
    durationMs,
    error: null,
    errorCode: null,
    correlationId: null,
  };
}

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("evidence store", () => {
  it("writes a batch after batchMs, and acknowledges each result once its transaction committed", () => {
    const clock = new FakeClock(START);
    const store = open(tempDir(), clock, { batchMs: 200 });
    const acked: number[] = [];
    store.onCommitted((batch) => acked.push(...batch.map((c) => c.result.ts)));
    store.record(ok(START));
    store.record(ok(START + 1000));
    expect(acked).toEqual([]);
    clock.advance(199);
    expect(acked).toEqual([]);
    clock.advance(1);
    expect(acked).toEqual([START, START + 1000]);
    expect(store.committedResults).toBe(2);
  });

  it("survives a restart: reopened, it replays every result in ts order", () => {
    const dir = tempDir();
    const clock = new FakeClock(START);
    const first = open(dir, clock);
    const results = [...generateResults(START, 2_000)];
    for (const r of [...results].reverse()) first.record(r);
    first.close();
    const reopened = open(dir, clock);
    const replayed = [...reopened.results({ from: START, to: START + 31 * DAY_MS })];
    const expected = [...results].sort((a, b) => a.ts - b.ts || (a.probe < b.probe ? -1 : 1));
    expect(replayed.map((r) => [r.ts, r.probe, r.status, r.durationMs, r.error])).toEqual(
      expected.map((r) => [r.ts, r.probe, r.status, r.durationMs, r.error]),
    );
    expect(reopened.verify()).toMatchObject({ ok: true, records: 2_000 });
  });

  it("stores a result once per probe + ts, however often it is recorded", () => {
    const clock = new FakeClock(START);
    const store = open(tempDir(), clock);
    store.record(ok(START));
    store.flush();
    store.record(ok(START));
    store.record(ok(START, "other-probe"));
    store.flush();
    expect([...store.results({ from: START, to: START + 1 })].map((r) => r.probe)).toEqual([
      "other-probe",
      "payment-request-read",
    ]);
    expect(store.chainHead().records).toBe(2);
  });

  it("filters results by probe and category", () => {
    const clock = new FakeClock(START);
    const store = open(tempDir(), clock);
    store.importResults([...generateResults(START, 130)]);
    const settlements = [...store.results({ from: START, to: START + DAY_MS, categories: ["settlements"] })];
    expect(settlements).toHaveLength(10);
    expect(new Set(settlements.map((r) => r.category))).toEqual(new Set(["settlements"]));
    const probe = [...store.results({ from: START, to: START + DAY_MS, probes: ["disputes-probe"] })];
    expect(probe.map((r) => r.probe)).toEqual(Array(10).fill("disputes-probe"));
  });

  it("refuses a result that breaks contract section 3 instead of poisoning its batch", () => {
    const clock = new FakeClock(START);
    const lines: string[] = [];
    const store = open(tempDir(), clock, { logger: (l) => lines.push(l) });
    store.record({ ...ok(START), durationMs: Number.NaN });
    store.record(ok(START + 1));
    store.flush();
    expect(lines).toEqual([expect.stringContaining("duration_ms must be a number >= 0")]);
    expect(store.chainHead().records).toBe(1);
    expect(store.health().writable).toBe(true);
  });
});

describe("rollups", () => {
  it("count each probe-minute by status class and error reason, with its latency histogram", () => {
    const clock = new FakeClock(START);
    const store = open(tempDir(), clock);
    const timeout: ProbeResult = { ...ok(START + 20_000, "p", 10_000), status: null, error: "timeout" };
    const reset: ProbeResult = { ...ok(START + 30_000, "p", 5), status: null, error: "reset" };
    store.importResults([
      ok(START, "p", 100),
      { ...ok(START + 10_000, "p", 300), status: 503 },
      timeout,
      reset,
    ]);
    store.record(ok(START + 40_000, "p", 200));
    store.flush();
    const [minute, ...rest] = [...store.rollups({ from: START, to: START + MINUTE_MS })];
    expect(rest).toEqual([]);
    expect(minute).toMatchObject({
      probe: "p",
      minute: START,
      byClass: { "2xx": 2, "3xx": 0, "4xx": 0, "5xx": 1, none: 2 },
      errors: { timeout: 1, reset: 1, connect: 0 },
      excluded: 0,
    });
    // Responses and the timeout count for latency; the reset does not.
    expect(minute!.latency!.count).toBe(4);
    expect(minute!.latency!.percentile(100)).toBeCloseTo(10_000, -1);
    expect(minute!.latency!.percentile(50)).toBeCloseTo(200, 0);
  });

  it("count excluded results apart, outside the status counts and latency", () => {
    const clock = new FakeClock(START);
    const store = open(tempDir(), clock, { isExcluded: (r) => r.ts >= START + 30_000 });
    store.importResults([ok(START), ok(START + 30_000), ok(START + 45_000)]);
    const [minute] = [...store.rollups({ from: START, to: START + MINUTE_MS })];
    expect(minute).toMatchObject({ excluded: 2, byClass: { "2xx": 1 } });
    expect(minute!.latency!.count).toBe(1);
  });
});

describe("agent runs", () => {
  it("a crashed run covers up to its last stored result, never its unsigned heartbeat; the rest until the next start is unmonitored", () => {
    const dir = tempDir();
    const clock = new FakeClock(START);
    const crashed = open(dir, clock);
    crashed.startRun(START);
    crashed.record(ok(START + 5 * MINUTE_MS));
    crashed.heartbeat(START + 10 * MINUTE_MS);
    crashed.flush();
    // No endRun: the process died. A new one starts an hour later and stops cleanly.
    const next = open(dir, clock);
    next.startRun(START + 70 * MINUTE_MS);
    next.endRun(START + 90 * MINUTE_MS);
    const runs = next.runIntervals({ from: START, to: START + DAY_MS });
    expect(runs.map((r) => [r.start, r.end, r.clean, r.signed])).toEqual([
      [START, null, false, true],
      [START + 70 * MINUTE_MS, START + 90 * MINUTE_MS, true, true],
    ]);
    expect(next.unmonitoredIntervals(START - MINUTE_MS, START + 2 * 60 * MINUTE_MS)).toEqual([
      { start: START - MINUTE_MS, end: START },
      { start: START + 5 * MINUTE_MS, end: START + 70 * MINUTE_MS },
      { start: START + 90 * MINUTE_MS, end: START + 120 * MINUTE_MS },
    ]);
  });

  it("a crashed run covers up to its last stored result when that is later than its last heartbeat", () => {
    const dir = tempDir();
    const clock = new FakeClock(START);
    const crashed = open(dir, clock);
    crashed.startRun(START);
    crashed.heartbeat(START + 30_000);
    // Results kept being written for 29 s after the last heartbeat that made it to disk.
    for (let t = START + 31_000; t <= START + 59_000; t += 1_000) crashed.record(ok(t));
    crashed.flush();
    const reader = open(dir, clock, { readOnly: true });
    expect(reader.unmonitoredIntervals(START, START + 10 * MINUTE_MS)).toEqual([
      { start: START + 59_000, end: START + 10 * MINUTE_MS },
    ]);
  });

  it("a crashed run whose raw results retention pruned covers up to the newest minute its committed rollups count", () => {
    const dir = tempDir();
    const clock = new FakeClock(START);
    const crashed = open(dir, clock, { retentionDays: 10 });
    crashed.startRun(START);
    for (let t = START; t < START + 2 * HOUR_MS; t += MINUTE_MS) crashed.record(ok(t));
    crashed.flush();
    // No endRun: the process died. Weeks later a prune removes its raw results.
    clock.advance(25 * DAY_MS);
    const later = open(dir, clock, { retentionDays: 10 });
    expect(later.prune(clock.now()).pruned).toBe(120);
    expect(later.unmonitoredIntervals(START, START + DAY_MS)).toEqual([
      { start: START + 2 * HOUR_MS - MINUTE_MS, end: START + DAY_MS },
    ]);
  });

  it("another process reading a running agent's store sees no phantom gap before its next heartbeat", () => {
    const dir = tempDir();
    const clock = new FakeClock(START);
    const agent = open(dir, clock);
    agent.startRun(START);
    clock.advance(3_000);
    const reader = open(dir, clock, { readOnly: true });
    expect(reader.unmonitoredIntervals(START, clock.now())).toEqual([]);
  });

  it("a heartbeat alone reaches disk every 30 s at most; results carry it in between", () => {
    const dir = tempDir();
    const clock = new FakeClock(START);
    const agent = open(dir, clock);
    agent.startRun(START);
    // The runs table (kept for older readers, decides nothing once runs are input records).
    const reader = new Database(join(dir, "evidence.sqlite"), { readonly: true });
    const stored = () => reader.prepare("SELECT last_heartbeat FROM runs").pluck().get() as number;
    for (const step of [5_000, 5_000, 15_000]) {
      clock.advance(step);
      agent.heartbeat(clock.now());
    }
    clock.advance(1_000);
    expect(stored()).toBe(START);
    clock.advance(4_000);
    agent.heartbeat(clock.now());
    clock.advance(1_000);
    expect(stored()).toBe(START + 30_000);
    clock.advance(4_000);
    agent.heartbeat(clock.now());
    agent.record(ok(START + 35_000));
    clock.advance(1_000);
    expect(stored()).toBe(START + 35_000);
    reader.close();
  });

  it("the running agent's own run covers up to now", () => {
    const clock = new FakeClock(START);
    const store = open(tempDir(), clock);
    store.startRun(START);
    clock.advance(5 * MINUTE_MS);
    expect(store.unmonitoredIntervals(START, START + 10 * MINUTE_MS)).toEqual([
      { start: START + 5 * MINUTE_MS, end: START + 10 * MINUTE_MS },
    ]);
  });
});

describe("retention", () => {
  it("prunes raw results older than retentionDays, keeps rollups, and verify passes from the anchor", () => {
    const dir = tempDir();
    const clock = new FakeClock(START);
    const store = open(dir, clock, { retentionDays: 10 });
    const old = [...generateResults(START, 260, 60_000)];
    const recent = [...generateResults(START + 20 * DAY_MS, 260, 60_000)];
    store.importResults(old);
    store.importResults(recent);
    const outcome = store.prune(START + 25 * DAY_MS);
    expect(outcome.pruned).toBe(260);
    expect(outcome.anchor?.seq).toBe(260);
    expect([...store.results({ from: START, to: START + DAY_MS })]).toEqual([]);
    expect([...store.rollups({ from: START, to: START + DAY_MS })].length).toBeGreaterThan(0);
    expect(store.verify()).toMatchObject({ ok: true, records: 260, anchor: { seq: 260 } });
    // The chain goes on from the anchor after a restart.
    store.close();
    const reopened = open(dir, clock, { retentionDays: 10 });
    reopened.record(ok(START + 26 * DAY_MS));
    expect(reopened.verify()).toMatchObject({ ok: true, records: 261 });
    expect(reopened.verify({ month: "2026-10" })).toMatchObject({ ok: true, records: 261 });
  });

  it("keeps a late import of old results until everything chained before it is old enough", () => {
    const clock = new FakeClock(START);
    const store = open(tempDir(), clock, { retentionDays: 10 });
    store.importResults([ok(START + 20 * DAY_MS)]);
    store.importResults([ok(START)]);
    expect(store.prune(START + 25 * DAY_MS)).toEqual({ pruned: 0, anchor: null, minutesCompacted: 0 });
    expect(store.prune(START + 31 * DAY_MS).pruned).toBe(2);
    expect(store.verify()).toMatchObject({ ok: true, records: 0 });
  });
});

describe("rollup retention", () => {
  function totals(rollups: Iterable<StoredRollup>) {
    let requests = 0;
    let timeouts = 0;
    let latencyCount = 0;
    for (const r of rollups) {
      requests += Object.values(r.byClass).reduce((a, b) => a + b, 0);
      timeouts += r.errors.timeout;
      latencyCount += r.latency?.count ?? 0;
    }
    return { requests, timeouts, latencyCount };
  }

  it("compacts minutes older than minuteRollupDays into hour rows that lose no count or latency", () => {
    const clock = new FakeClock(START);
    const store = open(tempDir(), clock, { retentionDays: 400, minuteRollupDays: 10 });
    // Three days of 13 probes every 30 s; the first two end up older than 10 days.
    store.importResults([...generateResults(START, 13 * 2 * 60 * 24 * 3)]);
    const before = totals(store.rollups({ from: START, to: START + 3 * DAY_MS }));
    const outcome = store.prune(START + 12 * DAY_MS);
    expect(outcome.minutesCompacted).toBe(13 * 60 * 24 * 2);
    const after = [...store.rollups({ from: START, to: START + 3 * DAY_MS })];
    expect(totals(after)).toEqual(before);
    const hours = after.filter((r) => r.spanMs === HOUR_MS);
    expect(hours).toHaveLength(13 * 24 * 2);
    expect(hours.every((r) => r.minute % HOUR_MS === 0 && r.minute < START + 2 * DAY_MS)).toBe(true);
    expect(after.filter((r) => r.spanMs === MINUTE_MS)).toHaveLength(13 * 60 * 24);
    // Raw results are kept for their own 400 days, and a second prune has nothing left to compact.
    expect(store.verify()).toMatchObject({ ok: true, records: 13 * 2 * 60 * 24 * 3 });
    expect(store.prune(START + 12 * DAY_MS).minutesCompacted).toBe(0);
    // 112k records imported, compacted and verified: room for a busy 2-core CI box.
  }, 180_000);

  it("a minute imported late into a compacted hour joins that hour at the next prune", () => {
    const clock = new FakeClock(START);
    const store = open(tempDir(), clock, { minuteRollupDays: 1 });
    store.importResults([ok(START + 5 * MINUTE_MS)]);
    store.prune(START + 3 * DAY_MS);
    store.importResults([ok(START + 7 * MINUTE_MS, "payment-request-read", 300)]);
    expect(store.prune(START + 3 * DAY_MS).minutesCompacted).toBe(1);
    const rows = [...store.rollups({ from: START, to: START + DAY_MS })];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ minute: START, spanMs: HOUR_MS, byClass: { "2xx": 2 } });
    expect(rows[0]!.latency?.count).toBe(2);
  });
});

describe("read-only store", () => {
  it("refuses a directory without a store and creates nothing there", () => {
    const missing = join(tempDir(), "typo");
    expect(() =>
      openEvidenceStore({ dataDir: missing, clock: new FakeClock(START), readOnly: true }),
    ).toThrow(`no evidence store at ${missing} (evidence.sqlite not found)`);
    expect(existsSync(missing)).toBe(false);
  });

  it("reads what a writer stored, and refuses to record", () => {
    const dir = tempDir();
    const clock = new FakeClock(START);
    open(dir, clock).importResults([ok(START), ok(START + 1000)]);
    const reader = open(dir, clock, { readOnly: true });
    expect([...reader.results({ from: START, to: START + DAY_MS })]).toHaveLength(2);
    expect(reader.verify()).toMatchObject({ ok: true, records: 2 });
    expect(() => reader.record(ok(START + 2000))).toThrow("read-only");
  });
});

describe("retention under disk trouble", () => {
  it("a prune that cannot write removes nothing, says so in one line, and works the next time", () => {
    const clock = new FakeClock(START);
    const lines: string[] = [];
    const store = open(tempDir(), clock, {
      retentionDays: 1,
      busyTimeoutMs: 10,
      logger: (l) => lines.push(l),
    });
    store.importResults([ok(START), ok(START + 1000)]);
    const other = new Database(store.path);
    other.exec("BEGIN IMMEDIATE");
    expect(store.prune(START + 5 * DAY_MS)).toEqual({ pruned: 0, anchor: null, minutesCompacted: 0 });
    expect(lines).toEqual([expect.stringMatching(/^evidence store: prune skipped \(SQLITE_BUSY/)]);
    other.exec("ROLLBACK");
    other.close();
    expect(store.prune(START + 5 * DAY_MS).pruned).toBe(2);
  });
});

describe("disk trouble", () => {
  it("a full database buffers results, logs once, and writes them all once there is room again", () => {
    const clock = new FakeClock(START);
    const lines: string[] = [];
    const dir = tempDir();
    const store = open(dir, clock, { logger: (l) => lines.push(l), batchMs: 100 });
    store.importResults([...generateResults(START, 100)]);
    // Cap the file at its current size: the next batch that needs a new page fails with SQLITE_FULL.
    store.setMaxDatabaseBytes(1);
    const results = [...generateResults(START + DAY_MS, 3_000)];
    for (const r of results) store.record(r);
    for (let i = 0; i < 20; i++) clock.advance(1_000);
    expect(store.health()).toMatchObject({ writable: false, buffered: 3_000, droppedResults: 0 });
    expect(store.health().lastError).toMatch(/^SQLITE_FULL/);
    expect(lines).toEqual([expect.stringContaining("evidence store unwritable (SQLITE_FULL")]);

    store.setMaxDatabaseBytes(null);
    clock.advance(60_000);
    expect(store.health()).toMatchObject({ writable: true, buffered: 0, lastError: null });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain("writable again: wrote 3000 buffered results");
    expect(store.chainHead().records).toBe(3_100);
    expect(store.verify()).toMatchObject({ ok: true, records: 3_100 });
  });

  it("beyond maxBufferedResults the oldest are dropped and counted", () => {
    const clock = new FakeClock(START);
    const lines: string[] = [];
    const store = open(tempDir(), clock, { logger: (l) => lines.push(l), maxBufferedResults: 50 });
    store.importResults([...generateResults(START, 10)]);
    store.setMaxDatabaseBytes(1);
    const results = [...generateResults(START + DAY_MS, 5_000)];
    for (const r of results) {
      store.record(r);
      clock.advance(10);
    }
    expect(store.health()).toMatchObject({ writable: false, buffered: 50, droppedResults: 4_950 });
    expect(lines.filter((l) => l.includes("dropping the oldest"))).toHaveLength(1);
    store.setMaxDatabaseBytes(null);
    clock.advance(60_000);
    const kept = [...store.results({ from: START + DAY_MS, to: START + 2 * DAY_MS })];
    expect(kept.map((r) => r.ts)).toEqual(results.slice(-50).map((r) => r.ts));
  });

  it("a database locked by another writer is retried until the lock is released", () => {
    const dir = tempDir();
    const clock = new FakeClock(START);
    const store = open(dir, clock, { busyTimeoutMs: 10 });
    store.record(ok(START));
    store.flush();
    const other = new Database(store.path);
    other.exec("BEGIN IMMEDIATE");
    store.record(ok(START + 1000));
    clock.advance(1_000);
    expect(store.health()).toMatchObject({ writable: false, buffered: 1 });
    expect(store.health().lastError).toMatch(/^SQLITE_BUSY/);
    other.exec("ROLLBACK");
    other.close();
    clock.advance(60_000);
    expect(store.health()).toMatchObject({ writable: true, buffered: 0 });
    expect(store.verify()).toMatchObject({ ok: true, records: 2 });
  });

  it("a vanished file is noticed and the buffer goes to a new file at the same path", () => {
    const dir = tempDir();
    const clock = new FakeClock(START);
    const lines: string[] = [];
    const store = open(dir, clock, { logger: (l) => lines.push(l) });
    store.record(ok(START));
    store.flush();
    rmSync(dir, { recursive: true, force: true });
    store.record(ok(START + 1000));
    clock.advance(60_000);
    expect(store.health()).toMatchObject({ writable: true, buffered: 0 });
    expect(lines.join("\n")).toContain("vanished");
    expect([...store.results({ from: START, to: START + DAY_MS })].map((r) => r.ts)).toEqual([START + 1000]);
  });
});
