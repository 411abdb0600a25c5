import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { describeProblem, openEvidenceStore, verifyEvidence } from "../../src/record/index.js";

/**
 * Inputs that decide a figure are records of the log: the feed's windows (which exclude results
 * from the figures) can no longer be edited, added or removed under an identical statement.
 */

const HOUR = 3_600_000;
const MONTH = "2026-03";
let base: string;
const dirs: string[] = [];

function hourly(from: number, to: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = from; t < to; t += HOUR) {
    out.push({
      ts: t,
      probe: "payment-request-read",
      category: "payment_request",
      status: 200,
      durationMs: 100,
      error: null,
      errorCode: null,
      correlationId: null,
    });
  }
  return out;
}

const reading = {
  providerId: "sp-1",
  name: "Database upgrade",
  start: Date.UTC(2026, 2, 20, 1),
  end: Date.UTC(2026, 2, 20, 3),
  providerCreatedAt: Date.UTC(2026, 2, 1),
  categories: "all" as const,
  cancelled: false,
  digest: "a".repeat(64),
};

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "slo-inputs-"));
  const clock = new FakeClock(Date.UTC(2026, 2, 2));
  const store = openEvidenceStore({ dataDir: base, clock, logger: () => {} });
  store.feedWindows.observe([reading], clock.now());
  clock.advance(HOUR);
  store.feedWindows.observe(
    [{ ...reading, end: Date.UTC(2026, 2, 20, 4), digest: "b".repeat(64) }],
    clock.now(),
  );
  expect(store.recordInput("config", { objective: 1 })).toBe(store.recordInput("config", { objective: 1 }));
  expect(store.configRecords({ from: Date.UTC(2026, 2, 1), to: Date.UTC(2026, 3, 1) })).toMatchObject([
    { seq: 3, kind: "config", payload: '{"objective":1}' },
  ]);
  clock.advance(32 * 24 * HOUR);
  store.importResults(hourly(Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 2)));
  store.close();
});

afterAll(() => {
  for (const dir of [base, ...dirs]) rmSync(dir, { recursive: true, force: true });
});

function attacked(sql: string): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-inputs-"));
  dirs.push(dir);
  cpSync(base, dir, { recursive: true });
  const db = new Database(join(dir, "evidence.sqlite"));
  db.exec(sql);
  db.close();
  const outcome = verifyEvidence(dir, { month: MONTH });
  if (outcome.ok) return "ok";
  return describeProblem(outcome.problem);
}

describe("input records", () => {
  it("the intact store verifies; each observation that adds or changes a window and each distinct configuration is a record", () => {
    expect(verifyEvidence(base, { month: MONTH }).ok).toBe(true);
    expect(verifyEvidence(base).ok).toBe(true);
    const db = new Database(join(base, "evidence.sqlite"), { readonly: true });
    const kinds = db.prepare("SELECT kind FROM input_records ORDER BY seq").pluck().all();
    db.close();
    expect(kinds).toEqual(["maintenance_observation", "maintenance_observation", "config"]);
  });

  const attacks: [string, string, RegExp][] = [
    [
      "a window extended",
      "UPDATE feed_windows SET end = end + 3600000",
      /feed window sp-1 is not the window .* \(edited\)/,
    ],
    [
      "a window deleted",
      "DELETE FROM feed_windows",
      /feed window sp-1, recorded .* is missing from feed_windows \(deleted\)/,
    ],
    [
      "a window inserted",
      `INSERT INTO feed_windows (provider_id, name, start, end, provider_created_at, first_seen_at, last_seen_at, categories, last_digest)
       VALUES ('sp-2', 'x', 0, 1, 0, 0, 0, '"all"', 'c')`,
      /feed window sp-2 is in feed_windows but no maintenance observation/,
    ],
    [
      "an observation edited",
      "UPDATE input_records SET payload = replace(payload, 'Database', 'Network') WHERE seq = 1",
      /input record: its content does not match its hash/,
    ],
    [
      "the newest input record deleted",
      "DELETE FROM input_records WHERE seq = 3",
      /end at seq 2, not at the input seq 3 the signed checkpoint/,
    ],
  ];
  for (const [name, sql, expected] of attacks) {
    it(`${name}: the month no longer verifies`, () => {
      expect(attacked(sql)).toMatch(expected);
    });
  }
});
