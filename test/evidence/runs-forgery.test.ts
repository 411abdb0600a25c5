import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { trafficProbeId } from "../../src/model/traffic.js";
import { canonicalForm, chainHashHex } from "../../src/record/evidence/canonical.js";
import { type EvidenceStore, openEvidenceStore } from "../../src/record/index.js";
import { type ResultRow, resultOfRow } from "../../src/record/rows.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";
import { sql } from "./store-attack.js";

/**
 * What the attacker of issue #23 (signed runs) did to a crashed run without the key, and what
 * stops it now: a crashed run ends at the last probe result it stored itself and a signed
 * checkpoint commits; traffic spans, another run's results, an unsigned tail, rollups of a pruned
 * day no commitment covers and runs-table rows numbered 0 or below extend nothing.
 */

const SLOW = 180_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MARCH = Date.UTC(2026, 2, 1);
const APRIL = Date.UTC(2026, 3, 1);
const MAY = Date.UTC(2026, 4, 1);
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function ok(ts: number): ProbeResult {
  return {
    ts,
    probe: "payment-request-read",
    category: "payment_request",
    status: 200,
    durationMs: 100,
    error: null,
    errorCode: null,
    correlationId: null,
  };
}

let spans = 0;
/** A merchant request reported as a span (the traffic token's holder sends these). */
function span(ts: number): ProbeResult {
  spans++;
  return {
    ...ok(ts),
    probe: trafficProbeId("GET", "/payment_request"),
    source: "traffic",
    correlationId: `${spans.toString(16).padStart(16, "0")}`,
  };
}

function dataDir(retentionDays = 36500): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-runs-forgery-"));
  dirs.push(dir);
  writeFileSync(
    join(dir, "slo.yaml"),
    sloYaml("./data").replace("retention_days: 36500", `retention_days: ${retentionDays}`),
  );
  return dir;
}

interface Run {
  start: number;
  lastResult: number;
  end: number | null;
  /** Done right after the start, before its first probe result. */
  first?: (store: EvidenceStore, clock: FakeClock) => void;
  /** Done right after its last probe result (a crashed run's last batch). */
  last?: (store: EvidenceStore, clock: FakeClock) => void;
  /** When its store is closed; default an hour into April (a past month needs a checkpoint after it). */
  closeAt?: number;
}

/** An agent run as the daemon makes it: start, a probe result every 5 minutes in [start, lastResult], a clean end unless it crashed. */
function agentRun(dir: string, run: Run, options: { retentionDays?: number; prune?: boolean } = {}): void {
  const clock = new FakeClock(run.start);
  const store = openEvidenceStore({
    dataDir: join(dir, "data"),
    clock,
    logger: () => {},
    ...(options.retentionDays === undefined ? {} : { retentionDays: options.retentionDays }),
  });
  store.startRun(run.start);
  run.first?.(store, clock);
  store.flush();
  for (let t = run.start; t <= run.lastResult; t += 5 * MINUTE) {
    clock.advance(t - clock.now());
    store.record(ok(t));
    store.flush();
  }
  run.last?.(store, clock);
  store.flush();
  if (options.prune) expect(store.prune(clock.now()).pruned).toBeGreaterThan(0);
  if (run.end !== null) {
    clock.advance(run.end - clock.now());
    store.endRun(run.end);
  }
  clock.advance(Math.max(0, (run.closeAt ?? APRIL + HOUR) - clock.now()));
  store.close();
}

const iso = (ts: number) => new Date(ts).toISOString();
const report = (dir: string) =>
  slo(
    [
      "report",
      "--month",
      "2026-03",
      "--format",
      "json",
      "--config",
      "slo.yaml",
      "--category",
      "payment_request",
    ],
    dir,
  );

function unmonitoredOf(dir: string): { start: string; end: string }[] {
  const out = report(dir);
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout).unmonitored;
}

/** The first run crashes on the 2nd (last probe result 10:00); the second starts on the 3rd and stops on the 4th. */
const CRASHED: Run = { start: MARCH + DAY, lastResult: MARCH + DAY + 10 * HOUR, end: null };
const NEXT: Run = { start: MARCH + 2 * DAY, lastResult: MARCH + 3 * DAY - 5 * MINUTE, end: MARCH + 3 * DAY };
const EXPECTED = [
  { start: iso(MARCH), end: iso(MARCH + DAY) },
  { start: iso(MARCH + DAY + 10 * HOUR), end: iso(MARCH + 2 * DAY) },
  { start: iso(MARCH + 3 * DAY), end: iso(APRIL) },
];

describe("a crashed run extends only over the probe results it stored itself and a checkpoint signed", () => {
  it(
    "traffic spans (one dated 4.5 minutes ahead before the crash, others posted after the restart into the gap) and a later run's result dated in the gap do not extend the crashed run",
    () => {
      const honest = dataDir();
      agentRun(honest, CRASHED);
      agentRun(honest, NEXT);
      expect(unmonitoredOf(honest)).toEqual(EXPECTED);

      const dir = dataDir();
      agentRun(dir, {
        ...CRASHED,
        // Accepted by the traffic receiver (under 5 minutes ahead), stored by the crashing run.
        last: (store) => store.record(span(CRASHED.lastResult + 4.5 * MINUTE)),
      });
      agentRun(dir, {
        ...NEXT,
        first: (store) => {
          // Posted right after the restart, dated across the crash gap (within the 7-day span age).
          for (let t = CRASHED.lastResult + HOUR; t < NEXT.start; t += HOUR) store.record(span(t));
          // A probe result of the new run dated in the gap (its clock stepped back): not the crashed run's.
          store.record(ok(CRASHED.lastResult + 12 * HOUR));
        },
      });
      expect(unmonitoredOf(dir)).toEqual(EXPECTED);
    },
    SLOW,
  );

  it(
    "one unsigned result chained after the signed head, dated after the month, fails report and verify --month (exit 1, naming it)",
    () => {
      const dir = dataDir();
      agentRun(dir, CRASHED);
      expect(report(dir).code).toBe(0);
      sql(dir, (db) => {
        const head = db.prepare("SELECT * FROM results ORDER BY seq DESC LIMIT 1").get() as ResultRow & {
          hash: Buffer;
        };
        const forged = { ...resultOfRow(head), ts: APRIL + DAY };
        const hash = chainHashHex(head.hash.toString("hex"), canonicalForm(forged));
        db.prepare(
          `INSERT INTO results (seq, ts, probe, category, status, duration_ms, error, error_code, correlation_id,
             phases, server_ms, flags, body_error, detail, agent, region, source, observed, prev_hash, hash)
           SELECT seq + 1, ?, probe, category, status, duration_ms, error, error_code, correlation_id,
             phases, server_ms, flags, body_error, detail, agent, region, source, observed, hash, unhex(?)
           FROM results WHERE seq = ?`,
        ).run(forged.ts, hash, head.seq);
      });
      const unsigned = /unsigned after the newest signed checkpoint/;
      const full = slo(["verify", "--config", "slo.yaml"], dir);
      expect(full.code).toBe(1);
      expect(full.stdout + full.stderr).toMatch(unsigned);
      const month = slo(["verify", "--month", "2026-03", "--config", "slo.yaml"], dir);
      expect(month.code, month.stdout).toBe(1);
      expect(month.stdout + month.stderr).toMatch(unsigned);
      const out = report(dir);
      expect(out.code, out.stdout).toBe(1);
      expect(out.stderr).toMatch(unsigned);
    },
    SLOW,
  );

  it(
    "a rollup row inserted into a pruned day of the next month fails the report and the export of the month a pruned run crashed in",
    () => {
      const dir = dataDir(30);
      // Run A crashes on March 1st; run B, May 10th-11th, prunes everything before April 11th.
      agentRun(dir, { start: MARCH, lastResult: MARCH + DAY, end: null }, { retentionDays: 30 });
      const b = MAY + 9 * DAY;
      agentRun(
        dir,
        { start: b, lastResult: b + DAY, end: b + DAY + MINUTE, closeAt: b + DAY + MINUTE },
        { retentionDays: 30, prune: true },
      );
      const honest = [{ start: iso(MARCH + DAY), end: iso(APRIL) }];
      expect(unmonitoredOf(dir)).toEqual(honest);
      sql(dir, (db) => {
        db.prepare(
          `INSERT INTO rollups (probe, minute, category, span_ms)
           SELECT probe, ?, category, 60000 FROM rollups LIMIT 1`,
        ).run(APRIL + 8 * DAY + 23 * HOUR);
      });
      const out = report(dir);
      expect(out.code, out.stdout).toBe(1);
      expect(out.stderr).toMatch(/rollups of 2026-04-09 .*not committed by any rollup commitment/);
      const exported = slo(
        ["evidence", "export", "--month", "2026-03", "--out", "bundle", "--config", "slo.yaml"],
        dir,
      );
      expect(exported.code, exported.stdout).toBe(1);
      expect(exported.stderr).toMatch(/agent's runs cannot be worked out: the rollups of 2026-04-09/);
    },
    SLOW,
  );

  it(
    "spans a later run stored dated in a crashed run's gap do not extend it once retention pruned both runs' raw results",
    () => {
      const dir = dataDir(30);
      agentRun(dir, { start: MARCH, lastResult: MARCH + DAY, end: null }, { retentionDays: 30 });
      agentRun(
        dir,
        {
          start: MARCH + 4 * DAY,
          lastResult: MARCH + 5 * DAY - 5 * MINUTE,
          end: MARCH + 5 * DAY,
          first: (store) => {
            for (let t = MARCH + DAY + HOUR; t < MARCH + 4 * DAY; t += HOUR) store.record(span(t));
          },
          closeAt: MARCH + 5 * DAY,
        },
        { retentionDays: 30 },
      );
      const c = MAY + 9 * DAY;
      agentRun(
        dir,
        { start: c, lastResult: c + DAY, end: c + DAY + MINUTE, closeAt: c + DAY + MINUTE },
        { retentionDays: 30, prune: true },
      );
      expect(unmonitoredOf(dir)).toEqual([
        { start: iso(MARCH + DAY), end: iso(MARCH + 4 * DAY) },
        { start: iso(MARCH + 5 * DAY), end: iso(APRIL) },
      ]);
    },
    SLOW,
  );

  it(
    "a runs-table row numbered 0 or -1 in a store that only ever had signed runs changes nothing",
    () => {
      const honest = dataDir();
      agentRun(honest, {
        start: MARCH + 10 * DAY,
        lastResult: MARCH + 20 * DAY - 5 * MINUTE,
        end: MARCH + 20 * DAY,
      });
      const expected = [
        { start: iso(MARCH), end: iso(MARCH + 10 * DAY) },
        { start: iso(MARCH + 20 * DAY), end: iso(APRIL) },
      ];
      expect(unmonitoredOf(honest)).toEqual(expected);
      for (const id of [0, -1]) {
        const dir = dataDir();
        agentRun(dir, {
          start: MARCH + 10 * DAY,
          lastResult: MARCH + 20 * DAY - 5 * MINUTE,
          end: MARCH + 20 * DAY,
        });
        sql(dir, (db) => {
          db.prepare(
            "INSERT INTO runs (id, started_at, last_heartbeat, ended_at, clean) VALUES (?, ?, ?, ?, 1)",
          ).run(id, MARCH, MARCH + 10 * DAY, MARCH + 10 * DAY);
        });
        const out = report(dir);
        expect(out.code, out.stderr).toBe(0);
        const json = JSON.parse(out.stdout);
        expect(json.unmonitored, `row id ${id}`).toEqual(expected);
        expect(json.warnings ?? []).not.toContainEqual(expect.stringMatching(/unsigned runs table/));
      }
    },
    SLOW,
  );
});
