import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { buildMonthlyReport } from "../../src/reports/index.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * Where a pruned month's rollup days end and its raw days begin (audit findings 6 and 7): from
 * what was pruned (the prune record), on a whole UTC day, never from the oldest kept record. So
 * pruning at any time of day leaves the month's figures as they were, and a record imported late
 * into a pruned day is counted once, in its day's rollups.
 */

const DAY = 86_400_000;
const MARCH = Date.UTC(2026, 2, 1);
const APRIL = Date.UTC(2026, 3, 1);
const config = fixtureConfig();
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Latencies spread over 40-2000 ms (a quarter ms off the grid), every 29th minute a timeout recorded short. */
function result(ts: number, status: number): ProbeResult {
  const minute = Math.floor(ts / 60_000);
  const timeout = minute % 29 === 0 && ts % 60_000 === 0;
  return {
    ts,
    probe: "payment-request-read",
    category: "payment_request",
    status: timeout ? null : status,
    durationMs: timeout ? 9000.25 : 40 + ((minute * 7919) % 1961) + 0.25,
    error: timeout ? "timeout" : null,
    errorCode: null,
    correlationId: null,
  };
}

/** Two results in the first minute of every 10 (at :00 and :40), every 13th a 503. */
function results(from: number, to: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = from, i = 0; t < to; t += 600_000, i++) {
    out.push(result(t, i % 13 === 0 ? 503 : 200), result(t + 40_000, 200));
  }
  return out;
}

function storeAt(now: number) {
  const dir = mkdtempSync(join(tmpdir(), "slo-prune-boundary-"));
  dirs.push(dir);
  const clock = new FakeClock(now);
  const store = openEvidenceStore({ dataDir: join(dir, "data"), clock, retentionDays: 20, logger: () => {} });
  store.importResults(results(MARCH, APRIL + 5 * DAY));
  return store;
}

function figures(store: ReturnType<typeof storeAt>, now: number) {
  const report = buildMonthlyReport({ config, store, month: "2026-03", now });
  const row = report.categories.find((c) => c.category === "payment_request")!;
  return { requests: row.requests, successful: row.successful, availability_pct: row.availability_pct };
}

describe("the pruned boundary", { timeout: 180_000 }, () => {
  it("pruning in the middle of a minute with records on both sides leaves the month's figures as they were", () => {
    // Retention cuts at 17 March 00:10:30: a rollup minute with one record each side of it.
    const now = APRIL + 5 * DAY + 10 * 60_000 + 30_000;
    const store = storeAt(now);
    try {
      const before = figures(store, now);
      expect(before.requests).toBe(31 * 144 * 2);
      expect(store.prune(now).pruned).toBeGreaterThan(0);
      expect(store.prunedUntil()).toBe(MARCH + 16 * DAY);
      expect(figures(store, now)).toEqual(before);
    } finally {
      store.close();
    }
  });

  it("a result imported late into a pruned day is refused naming the day; the boundary and the figures stay", () => {
    const now = APRIL + 5 * DAY;
    const store = storeAt(now);
    try {
      const before = figures(store, now);
      store.prune(now);
      const boundary = store.prunedUntil();
      expect(boundary).toBe(MARCH + 16 * DAY);
      expect(figures(store, now)).toEqual(before);
      expect(() => store.importResults([result(MARCH + 2 * DAY + 12 * 3_600_000 + 1_000, 200)])).toThrow(
        /falls on 2026-03-03, a day whose records retention pruned/,
      );
      expect(store.prunedUntil()).toBe(boundary);
      expect(figures(store, now)).toEqual(before);
      store.prune(now + DAY);
      expect(figures(store, now + DAY)).toEqual(before);
      expect(store.verify({ month: "2026-03" }).ok).toBe(true);
    } finally {
      store.close();
    }
  });

  it("the pruned month's own results imported again (an old export) are refused, not counted twice (audit 2, hole 4)", () => {
    const now = APRIL + 5 * DAY;
    const store = storeAt(now);
    try {
      store.prune(now);
      const before = figures(store, now);
      // Before the fix the pruned days' results went in again: their rollups and raw rows both counted.
      expect(() => store.importResults(results(MARCH, APRIL))).toThrow(
        /falls on 2026-03-01, a day whose records/,
      );
      expect(figures(store, now)).toEqual(before);
      // Kept days only: the same results are already stored, nothing new.
      expect(store.importResults(results(MARCH, APRIL).filter((r) => r.ts >= MARCH + 16 * DAY))).toEqual({
        imported: 0,
        alreadyPresent: 15 * 144 * 2,
      });
      expect(figures(store, now)).toEqual(before);
    } finally {
      store.close();
    }
  });

  it("an honest pruned month's bundle verifies: its first record follows the signed chain anchor (audit finding 7)", () => {
    const now = APRIL + 5 * DAY;
    const store = storeAt(now);
    const dir = mkdtempSync(join(tmpdir(), "slo-pruned-bundle-"));
    dirs.push(dir);
    try {
      store.prune(now);
    } finally {
      store.close();
    }
    writeFileSync(join(dir, "slo.yaml"), sloYaml(dirname(store.path)));
    const exported = slo(
      ["evidence", "export", "--month", "2026-03", "--out", "B", "--config", "slo.yaml"],
      dir,
    );
    expect(exported.code, exported.stderr).toBe(0);
    const verified = slo(["verify", "--bundle", "B"], dir);
    expect(verified.code, verified.stderr).toBe(0);
    // The pruned days' rollups are in the bundle, checked against their commitments: recompute.py
    // gives the report's figures (it compares them with report.json: any difference is exit 1).
    const recompute = () => spawnSync("python3", ["recompute.py"], { cwd: join(dir, "B"), encoding: "utf8" });
    const run = recompute();
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const figures = JSON.parse(run.stdout).categories.find(
      (c: { category: string }) => c.category === "payment_request",
    );
    expect(figures.requests).toBe(31 * 144 * 2);
    // A rollup line edited in the bundle (a day's 200s turned 503s) is not what the day's commitment says.
    const rollups = join(dir, "B", "rollups.ndjson");
    const lines = readFileSync(rollups, "utf8").split("\n");
    const row = JSON.parse(lines[2]!);
    row.row[5] += row.row[2];
    row.row[2] = 0;
    lines[2] = JSON.stringify(row);
    writeFileSync(rollups, lines.join("\n"));
    const edited = recompute();
    expect(edited.status).toBe(1);
    expect(edited.stderr).toContain(
      `rollups.ndjson: the rollups of ${row.day} are not what its rollup commitment in inputs.ndjson says`,
    );
  });
});
