import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { latencyMsOf, type ProbeResult } from "../../src/model/index.js";
import { type EvidenceStoreOptions, openEvidenceStore, verifyEvidence } from "../../src/record/index.js";
import { buildMonthlyReport } from "../../src/reports/index.js";
import { slo } from "../reports/cli-run.js";
import { fixtureConfig } from "../support/slo-config.js";

/** A pruned month's figures come from rollups: those are committed per day, and an edit is caught. */

const DAY = 86_400_000;
const MARCH = Date.UTC(2026, 2, 1);
const APRIL = Date.UTC(2026, 3, 1);
const config = fixtureConfig();
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function results(from: number, to: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = from, i = 0; t < to; t += 600_000, i++) {
    out.push({
      ts: t,
      probe: "payment-request-read",
      category: "payment_request",
      status: i % 17 === 0 ? 503 : 200,
      durationMs: 40 + ((i * 7919) % 1961),
      error: null,
      errorCode: null,
      correlationId: null,
    });
  }
  return out;
}

/** March and 1-10 April imported, then pruned on 20 April with ten days' retention: March lives on in rollups. */
function prunedStore(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-rollup-commit-"));
  dirs.push(dir);
  const clock = new FakeClock(APRIL + 10 * DAY);
  const store = openEvidenceStore({ dataDir: dir, clock, retentionDays: 10, logger: () => {} });
  store.importResults(results(MARCH, APRIL + 10 * DAY));
  clock.advance(10 * DAY);
  expect(store.prune(clock.now()).pruned).toBeGreaterThan(31 * 144);
  store.close();
  return dir;
}

function availability(dir: string): number {
  const store = openEvidenceStore({
    dataDir: dir,
    clock: new FakeClock(APRIL + 20 * DAY),
    readOnly: true,
    logger: () => {},
  });
  try {
    const report = buildMonthlyReport({ config, store, month: "2026-03", now: APRIL + 20 * DAY });
    return report.categories.find((c) => c.category === "payment_request")!.availability_pct!;
  } finally {
    store.close();
  }
}

describe("rollup commitments", () => {
  it("a pruned month verifies; an edited rollup changes its figure and no longer verifies", () => {
    const dir = prunedStore();
    expect(verifyEvidence(dir, { month: "2026-03" })).toMatchObject({ ok: true, records: 0 });
    const before = availability(dir);
    const db = new Database(join(dir, "evidence.sqlite"));
    db.prepare("UPDATE rollups SET count_5xx = count_5xx + count_2xx, count_2xx = 0 WHERE minute < ?").run(
      MARCH + 4 * DAY,
    );
    db.close();
    expect(availability(dir)).toBeLessThan(before);
    const outcome = verifyEvidence(dir, { month: "2026-03" });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok)
      expect(outcome.problem.detail).toBe(
        "the rollups of 2026-03-01 (records pruned) are not what its rollup commitment in the log says (edited or deleted)",
      );
  });

  it("a pruned day whose rollups were deleted is caught", () => {
    const dir = prunedStore();
    const db = new Database(join(dir, "evidence.sqlite"));
    db.prepare("DELETE FROM rollups WHERE minute >= ? AND minute < ?").run(MARCH + 5 * DAY, MARCH + 6 * DAY);
    db.close();
    const outcome = verifyEvidence(dir, { month: "2026-03" });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.problem.detail).toContain("the rollups of 2026-03-06");
  });
});

describe("plain `slo-agent verify` checks every pruned day's rollups (AUDIT-23e finding 4)", () => {
  const attacks = [
    {
      name: "a pruned day's rollups deleted",
      sql: `DELETE FROM rollups WHERE minute >= ${MARCH + 5 * DAY} AND minute < ${MARCH + 6 * DAY}`,
      detail:
        "the rollups of 2026-03-06 (records pruned) are not what its rollup commitment in the log says (edited or deleted)",
    },
    {
      name: "a 5xx rollup row added to a pruned day",
      sql: `INSERT INTO rollups (probe, minute, category, count_5xx, span_ms)
            VALUES ('payment-request-read-x', ${MARCH + 5 * DAY}, 'payment_request', 5000, 3600000)`,
      detail:
        "the rollups of 2026-03-06 (records pruned) are not what its rollup commitment in the log says (edited or deleted)",
    },
  ];
  it("the intact pruned store verifies", () => {
    const run = slo(["verify", "--data-dir", prunedStore()], tmpdir());
    expect(run.code, run.stderr).toBe(0);
  });
  for (const { name, sql, detail } of attacks) {
    it(`${name}: exit 1 naming the day, as verify --month does`, () => {
      const dir = prunedStore();
      editRollups(dir, sql);
      const run = slo(["verify", "--data-dir", dir], tmpdir());
      expect(run.code, run.stdout).toBe(1);
      expect(run.stderr).toContain(detail);
    });
  }
});

/** March and 1-10 April imported and kept (a writer store with its log lines), to be pruned on 20 April. */
function keptStore(options: Pick<EvidenceStoreOptions, "isExcluded" | "latencyOf"> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "slo-rollup-kept-"));
  dirs.push(dir);
  const clock = new FakeClock(APRIL + 10 * DAY);
  const log: string[] = [];
  const store = openEvidenceStore({
    dataDir: dir,
    clock,
    retentionDays: 10,
    logger: (line) => log.push(line),
    ...options,
  });
  store.importResults(results(MARCH, APRIL + 10 * DAY));
  clock.advance(10 * DAY);
  return { dir, store, log, now: clock.now() };
}

const editRollups = (dir: string, sqlText: string, ...params: number[]) => {
  const db = new Database(join(dir, "evidence.sqlite"));
  db.prepare(sqlText).run(...params);
  db.close();
};

describe("a prune commits only rollups that agree with the records (audit 2, hole 3)", () => {
  const cases = [
    {
      name: "successes turned into 503s",
      edit: "UPDATE rollups SET count_5xx = count_5xx + count_2xx, count_2xx = 0 WHERE minute >= ? AND minute < ?",
      problem: /probe payment-request-read: its rollups' count_5xx is \d+, its records hold \d+\)/,
    },
    {
      name: "results added",
      edit: "UPDATE rollups SET count_5xx = count_5xx + 5 WHERE minute >= ? AND minute < ?",
      problem: /its rollups count \d+ results, its records are 144/,
    },
    {
      name: "latencies replaced",
      edit: "UPDATE rollups SET latency = X'01B0EA0101' WHERE minute >= ? AND minute < ?",
      problem: /latencies that none of its records had \(0 timeouts\)/,
    },
    {
      name: "a day's rollups deleted",
      edit: "DELETE FROM rollups WHERE minute >= ? AND minute < ?",
      problem: /no rollup counts its 144 records \(deleted\)/,
    },
  ];
  for (const { name, edit, problem } of cases) {
    it(`${name} while the records are kept: the prune refuses naming the day, removes and commits nothing`, () => {
      const { dir, store, log, now } = keptStore();
      try {
        editRollups(dir, edit, MARCH + 2 * DAY, MARCH + 3 * DAY);
        // Before the fix the prune committed the edited rollups: a signed commitment over forged figures.
        expect(store.prune(now)).toMatchObject({ pruned: 0, anchor: null });
        const refusal = log.find((line) => line.includes("prune skipped"));
        expect(refusal).toContain(
          "nothing was removed: the rollups of 2026-03-03 are not what its records say (",
        );
        expect(refusal).toMatch(problem);
        expect(store.prunedUntil()).toBeNull();
        const db = new Database(join(dir, "evidence.sqlite"), { readonly: true });
        expect(
          db.prepare("SELECT count(*) FROM input_records WHERE kind = 'rollup_commitment'").pluck().get(),
        ).toBe(0);
        db.close();
      } finally {
        store.close();
      }
    });
  }

  it("results the writer excluded and timeouts it counted at their probe's timeout still agree: the prune goes ahead", () => {
    const inMaintenance = (r: ProbeResult) =>
      r.ts >= MARCH + 2 * DAY && r.ts < MARCH + 2 * DAY + 6 * 3_600_000;
    // As `slo-agent import --config` judges: maintenance excluded, a timeout at its probe's 5 s.
    const { dir, store, now } = keptStore({
      isExcluded: inMaintenance,
      latencyOf: (r) => latencyMsOf(r, 5000),
    });
    try {
      const timeout = {
        ...results(MARCH, MARCH + 1)[0]!,
        ts: MARCH + 4 * DAY + 7,
        status: null,
        error: "timeout" as const,
        durationMs: 900,
      };
      store.importResults([timeout]);
      expect(store.prune(now).pruned).toBeGreaterThan(31 * 144);
      expect(verifyEvidence(dir, { month: "2026-03" })).toMatchObject({ ok: true });
    } finally {
      store.close();
    }
  });
});

describe("a half-pruned month's p99", () => {
  it("counts the raw part in the histogram too: within 0.1 % of the exact p99", () => {
    const dir = mkdtempSync(join(tmpdir(), "slo-p99-"));
    dirs.push(dir);
    const clock = new FakeClock(APRIL + 5 * DAY);
    const store = openEvidenceStore({
      dataDir: join(dir, "data"),
      clock,
      retentionDays: 20,
      logger: () => {},
    });
    try {
      // Fast before 17 March (to be pruned), slow after: the p99 lies in the raw part.
      const fast = results(MARCH, MARCH + 16 * DAY).map((r) => ({
        ...r,
        durationMs: 50 + (r.durationMs % 50),
      }));
      const slow = results(MARCH + 16 * DAY, APRIL + 5 * DAY).map((r) => ({
        ...r,
        durationMs: 1500 + r.durationMs,
      }));
      store.importResults([...fast, ...slow]);
      const p99 = () =>
        buildMonthlyReport({ config, store, month: "2026-03", now: APRIL + 5 * DAY }).categories.find(
          (c) => c.category === "payment_request",
        )!;
      const exact = p99();
      expect(exact.latency_source).toBe("exact");
      expect(store.prune(APRIL + 5 * DAY).pruned).toBe(16 * 144);
      const mixed = p99();
      expect(mixed.latency_source).toBe("histogram");
      expect(Math.abs(mixed.latency_p99_ms! - exact.latency_p99_ms!)).toBeLessThanOrEqual(
        exact.latency_p99_ms! / 1000,
      );
    } finally {
      store.close();
    }
  });
});
