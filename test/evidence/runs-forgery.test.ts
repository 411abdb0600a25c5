import { afterAll, describe, expect, it } from "vitest";
import type { ProbeResult } from "../../src/model/index.js";
import { trafficProbeId } from "../../src/model/traffic.js";
import { canonicalForm, chainHashHex } from "../../src/record/evidence/canonical.js";
import { type ResultRow, resultOfRow } from "../../src/record/rows.js";
import { slo } from "../reports/cli-run.js";
import {
  APRIL,
  agentRun,
  DAY,
  dataDir,
  HOUR,
  iso,
  MARCH,
  MINUTE,
  ok,
  type Run,
  removeDataDirs,
  report,
  SLOW,
  unmonitoredOf,
} from "./agent-runs-store.js";
import { sql } from "./store-attack.js";

/**
 * What the attacker of issue #23 (signed runs) did to a crashed run without the key, and what
 * stops it now: a crashed run ends at the last probe result it stored itself and a signed
 * checkpoint commits; traffic spans, another run's results, an unsigned tail, rollups of a pruned
 * day no commitment covers and runs-table rows numbered 0 or below extend nothing.
 */

const MAY = Date.UTC(2026, 4, 1);

afterAll(removeDataDirs);

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
      const honest = dataDir("slo-runs-forgery-");
      agentRun(honest, CRASHED);
      agentRun(honest, NEXT);
      expect(unmonitoredOf(honest)).toEqual(EXPECTED);

      const dir = dataDir("slo-runs-forgery-");
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
      const dir = dataDir("slo-runs-forgery-");
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
      const dir = dataDir("slo-runs-forgery-", 30);
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
      const dir = dataDir("slo-runs-forgery-", 30);
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
      const honest = dataDir("slo-runs-forgery-");
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
        const dir = dataDir("slo-runs-forgery-");
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
