import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { ndjsonLine } from "../record/results.js";
import { slo } from "../reports/cli-run.js";
import { recompute } from "../support/recompute.js";
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
  removeDataDirs,
  report,
  SLOW,
  unmonitoredOf,
} from "./agent-runs-store.js";
import { sql } from "./store-attack.js";

/**
 * The time no agent ran (the report's `unmonitored`) is decided by the agent's runs: their start
 * and clean end are signed input records, so the unsigned `runs` table no longer decides it (issue
 * 23, the auditor's last hole). An older store's unsigned runs still count, with a warning.
 */

afterAll(removeDataDirs);

/** Two runs of March: the first crashed (its last result 10:00 on the 2nd), the second stopped cleanly on the 4th. */
function crashedThenClean(): string {
  const dir = dataDir("slo-runs-");
  agentRun(dir, { start: MARCH + DAY, lastResult: MARCH + DAY + 10 * HOUR, end: null });
  agentRun(dir, { start: MARCH + 2 * DAY, lastResult: MARCH + 3 * DAY - 5 * MINUTE, end: MARCH + 3 * DAY });
  return dir;
}

const EXPECTED = [
  { start: iso(MARCH), end: iso(MARCH + DAY) },
  // The crash: covered up to its last stored result, nothing after it until the next start.
  { start: iso(MARCH + DAY + 10 * HOUR), end: iso(MARCH + 2 * DAY) },
  { start: iso(MARCH + 3 * DAY), end: iso(APRIL) },
];

describe("agent runs are signed input records", () => {
  it(
    "a runs row inserted and a crashed run's heartbeat raised with sqlite change no unmonitored period of the report",
    () => {
      const dir = crashedThenClean();
      expect(unmonitoredOf(dir)).toEqual(EXPECTED);
      sql(dir, (db) => {
        // What an insider would do to hide the agent's downtime from the provider.
        db.prepare("UPDATE runs SET last_heartbeat = ? WHERE ended_at IS NULL").run(MARCH + 2 * DAY);
        db.prepare("INSERT INTO runs (started_at, last_heartbeat, ended_at, clean) VALUES (?, ?, ?, 1)").run(
          MARCH - DAY,
          APRIL,
          APRIL,
        );
        db.prepare("INSERT INTO runs (started_at, last_heartbeat, ended_at, clean) VALUES (?, ?, ?, 1)").run(
          MARCH + 3 * DAY,
          APRIL,
          APRIL,
        );
      });
      const out = report(dir);
      expect(out.code, out.stderr).toBe(0);
      const json = JSON.parse(out.stdout);
      expect(json.unmonitored).toEqual(EXPECTED);
      expect(json.coverage.agent_runs).toBe(2);
      expect(json.warnings ?? []).not.toContainEqual(expect.stringMatching(/unsigned runs table/));
    },
    SLOW,
  );

  it(
    "results slo-agent import stores after a crash, dated in its gap, do not extend the crashed run",
    () => {
      const dir = crashedThenClean();
      const gap = [MARCH + DAY + 12 * HOUR, MARCH + DAY + 20 * HOUR].map((t) => ndjsonLine(ok(t)));
      writeFileSync(join(dir, "gap.ndjson"), `${gap.join("\n")}\n`);
      const imported = slo(["import", "gap.ndjson", "--config", "slo.yaml"], dir);
      expect(imported.code, imported.stderr).toBe(0);
      expect(unmonitoredOf(dir)).toEqual(EXPECTED);
    },
    SLOW,
  );

  it(
    "the bundle carries the run records, verify --bundle accepts it and recompute.py reads it",
    () => {
      const dir = crashedThenClean();
      const run = slo(
        ["evidence", "export", "--month", "2026-03", "--out", "bundle", "--config", "slo.yaml"],
        dir,
      );
      expect(run.code, run.stderr).toBe(0);
      const kinds = readFileSync(join(dir, "bundle", "inputs.ndjson"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).kind);
      expect(kinds.filter((k) => k === "run_start")).toHaveLength(2);
      expect(kinds.filter((k) => k === "run_end")).toHaveLength(1);
      const verify = slo(["verify", "--bundle", "bundle"], dir);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      const figures = recompute(join(dir, "bundle"));
      expect(figures.code, figures.stderr).toBe(0);
    },
    SLOW,
  );

  it(
    "a run_start or run_end input record deleted is caught by verify and report (exit 1) like any other input record",
    () => {
      const honest = crashedThenClean();
      for (const kind of ["run_start", "run_end"]) {
        const dir = dataDir("slo-runs-");
        cpSync(join(honest, "data"), join(dir, "data"), { recursive: true });
        const kinds = sql(dir, (db) => {
          const seq = db
            .prepare("SELECT max(seq) FROM input_records WHERE kind = ?")
            .pluck()
            .get(kind) as number;
          db.prepare("DELETE FROM input_records WHERE seq = ?").run(seq);
          return seq;
        });
        expect(kinds, `a ${kind} record was written`).toBeGreaterThan(0);
        const verify = slo(["verify", "--config", "slo.yaml"], dir);
        expect(verify.code, `${kind}: ${verify.stdout}${verify.stderr}`).toBe(1);
        expect(verify.stdout + verify.stderr).toMatch(/input record/);
        const out = report(dir);
        expect(out.code, `${kind}: ${out.stderr}`).toBe(1);
      }
    },
    SLOW,
  );

  it(
    "an older store's unsigned runs still decide the time before the first signed run, with a warning in every format; a row added after it changes nothing",
    () => {
      const dir = dataDir("slo-runs-");
      // What an older agent left: results, and its runs in the unsigned table only.
      const clock = new FakeClock(MARCH + 10 * DAY);
      const old = openEvidenceStore({ dataDir: join(dir, "data"), clock, logger: () => {} });
      old.importResults([ok(MARCH + DAY), ok(MARCH + DAY + HOUR)]);
      old.close();
      sql(dir, (db) => {
        db.prepare("INSERT INTO runs (started_at, last_heartbeat, ended_at, clean) VALUES (?, ?, ?, 1)").run(
          MARCH + DAY,
          MARCH + 2 * DAY,
          MARCH + 2 * DAY,
        );
      });
      // This version's agent runs from the 20th to the 21st.
      agentRun(dir, {
        start: MARCH + 19 * DAY,
        lastResult: MARCH + 20 * DAY - 5 * MINUTE,
        end: MARCH + 20 * DAY,
      });
      const expected = [
        { start: iso(MARCH), end: iso(MARCH + DAY) },
        { start: iso(MARCH + 2 * DAY), end: iso(MARCH + 19 * DAY) },
        { start: iso(MARCH + 20 * DAY), end: iso(APRIL) },
      ];
      const warning = `the agent runs before ${iso(MARCH + 19 * DAY)} come from the store`;
      const json = report(dir);
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout).unmonitored).toEqual(expected);
      expect(JSON.parse(json.stdout).warnings).toContainEqual(expect.stringContaining(warning));
      for (const format of ["md", "html", "csv"]) {
        const out = report(dir, format);
        expect(out.code, `${format}: ${out.stderr}`).toBe(0);
        expect(out.stdout, format).toContain(warning);
      }
      // A row inserted now decides nothing, dated before the first signed run or after it.
      sql(dir, (db) => {
        const insert = db.prepare(
          "INSERT INTO runs (started_at, last_heartbeat, ended_at, clean) VALUES (?, ?, ?, 1)",
        );
        insert.run(MARCH + 20 * DAY, APRIL, APRIL);
        insert.run(MARCH + 2 * DAY, MARCH + 19 * DAY, MARCH + 19 * DAY);
      });
      expect(unmonitoredOf(dir)).toEqual(expected);
    },
    SLOW,
  );
});
