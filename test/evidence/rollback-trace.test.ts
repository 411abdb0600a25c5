import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { type EvidenceStore, openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";
import { hourly, sql } from "./store-attack.js";

/**
 * Issue 23, fifth audit (1, 12): a rollback made under a running agent left nothing in the store
 * when the agent wrote no batch after it (an idle agent stopped at once, or its final write
 * failing on a locked store): restarted, verify and report passed. The agent now leaves an
 * unsigned `rollback_detected` input record as soon as it finds the store gone back: at a batch,
 * at its periodic check, and first thing at close. Real SQLite stores, the real CLI.
 */

const MINUTE = 60_000;
const SLOW = 300_000;
const MARCH = Date.UTC(2026, 2, 1);
const MAR30 = Date.UTC(2026, 2, 30);
const DETECTED =
  /the agent detected a rollback at 2026-04-01T00:0\d:00\.000Z \(input record seq \d+, rollback_detected\): it had signed and committed the head at results seq \d+/;

/** What verify and every report say of a rollback an adoption signed over. */
const ADOPTED =
  /the agent detected a rollback at 2026-04-01T00:0\d:00\.000Z \(input record seq (\d+)\) and an adoption at \S+ \(input record seq \d+\) signed over it: it had signed and committed the head at results seq \d+/;

let base: string;
const dirs: string[] = [];

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "slo-rollback-base-"));
  writeFileSync(join(base, "slo.yaml"), sloYaml("./data"));
  const store = openEvidenceStore({
    dataDir: join(base, "data"),
    clock: new FakeClock(MAR30),
    logger: () => {},
  });
  store.recordInput("config", { maintenance: { windows: [] } });
  store.importResults(hourly(MARCH, MAR30));
  store.close();
}, SLOW);

afterAll(() => {
  for (const dir of [base, ...dirs]) rmSync(dir, { recursive: true, force: true });
});

interface Running {
  readonly dir: string;
  readonly store: EvidenceStore;
  readonly lines: string[];
  /** One batch a minute later: results written and signed. */
  readonly batch: () => void;
}

/** A copy of the March store with a writer on it, as the agent is on April 1st. */
function running(): Running {
  const dir = mkdtempSync(join(tmpdir(), "slo-rollback-"));
  dirs.push(dir);
  cpSync(base, dir, { recursive: true });
  const lines: string[] = [];
  const clock = new FakeClock(Date.UTC(2026, 3, 1));
  const store = openEvidenceStore({
    dataDir: join(dir, "data"),
    clock,
    logger: (line, level) => lines.push(`${level ?? "warn"} ${line}`),
  });
  const batch = () => {
    clock.advance(MINUTE);
    for (const r of hourly(clock.now(), clock.now() + 1)) store.record(r);
    store.flush();
  };
  return { dir, store, lines, batch };
}

/**
 * The insider's rollback under the running writer: the newest checkpoint row copied after one
 * batch, two more batches signed, then every record after the copy deleted and the copy restored.
 */
function rollBack({ dir, batch }: Running): void {
  batch();
  const saved = sql(dir, (db) =>
    db.prepare("SELECT * FROM checkpoints ORDER BY id DESC LIMIT 1").get(),
  ) as Record<string, unknown>;
  batch();
  batch();
  sql(dir, (db) =>
    db.transaction(() => {
      db.prepare("DELETE FROM results WHERE seq > ?").run(saved.head_seq);
      db.prepare("DELETE FROM input_records WHERE seq > ?").run(saved.inputs_seq);
      db.prepare("DELETE FROM checkpoints WHERE id >= ?").run(saved.id);
      const columns = Object.keys(saved);
      db.prepare(
        `INSERT INTO checkpoints (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
      ).run(...columns.map((c) => saved[c]));
    })(),
  );
}

const rollbackRecords = (dir: string) =>
  sql(dir, (db) =>
    db.prepare("SELECT seq FROM input_records WHERE kind = 'rollback_detected'").pluck().all(),
  );

function expectVerifyAndReportNameIt(dir: string): void {
  const verified = slo(["verify", "--data-dir", "data"], dir);
  expect(verified.code, verified.stderr).toBe(1);
  expect(verified.stderr).toMatch(DETECTED);
  const report = slo(["report", "--month", "2026-03", "--config", "slo.yaml", "--format", "json"], dir);
  expect(report.code, report.stderr).toBe(1);
  expect(report.stderr).toMatch(DETECTED);
}

describe("a rollback under a running writer leaves an unsigned rollback_detected record", () => {
  it(
    "found by the periodic check with no batch after it: recorded at once, logged at error; verify and report exit 1 naming it",
    () => {
      const agent = running();
      rollBack(agent);
      expect(rollbackRecords(agent.dir)).toEqual([]);
      expect(agent.store.checkSignedHead()).toMatch(/^the store went back under this agent: record seq \d+/);
      expect(rollbackRecords(agent.dir)).toHaveLength(1);
      expect(agent.store.rollbackDetected()?.seq).toBe(rollbackRecords(agent.dir)[0]);
      expect(agent.lines.filter((l) => l.startsWith("error "))).toEqual([
        expect.stringContaining("recorded as input record seq"),
        expect.stringContaining("not signing the evidence"),
      ]);
      // Checked again (every refresh): one record, one pair of lines, still refusing.
      agent.store.checkSignedHead();
      agent.batch();
      expect(rollbackRecords(agent.dir)).toHaveLength(1);
      expect(agent.lines.filter((l) => l.startsWith("error "))).toHaveLength(2);
      expect(agent.store.signingRefusal()).toMatch(/^the store went back under this agent/);
      agent.store.close();
      expectVerifyAndReportNameIt(agent.dir);
    },
    SLOW,
  );

  it(
    "stopped right after the rollback, before any batch or check (the idle agent's SIGINT): close records it first; a restarted writer refuses naming it",
    () => {
      const agent = running();
      rollBack(agent);
      agent.store.close();
      expect(rollbackRecords(agent.dir)).toHaveLength(1);
      expectVerifyAndReportNameIt(agent.dir);
      const day = Date.UTC(2026, 3, 2);
      const again = openEvidenceStore({
        dataDir: join(agent.dir, "data"),
        clock: new FakeClock(day),
        logger: () => {},
      });
      for (const r of hourly(day, day + 1)) again.record(r);
      again.flush();
      expect(again.signingRefusal()).toMatch(DETECTED);
      again.close();
      // Examined and found to be as it should be: only the operator's explicit adoption signs over it.
      const adopted = slo(["evidence", "adopt", "--config", "slo.yaml"], agent.dir);
      expect(adopted.code, adopted.stderr).toBe(0);
      expect(rollbackRecords(agent.dir)).toHaveLength(1);
      // Adopted, the chain verifies again, but the rollback is still named (AUDIT-23f finding 2):
      // by verify, verify --month, every report format and verify --bundle; exit codes unchanged.
      for (const args of [["verify"], ["verify", "--month", "2026-03"]]) {
        const verified = slo([...args, "--data-dir", "data"], agent.dir);
        expect(verified.code, verified.stderr).toBe(0);
        expect(verified.stderr).toMatch(ADOPTED);
      }
      const json = slo(
        ["report", "--month", "2026-03", "--config", "slo.yaml", "--format", "json"],
        agent.dir,
      );
      expect(json.code, json.stderr).toBe(0);
      expect((JSON.parse(json.stdout).warnings as string[]).join("\n")).toMatch(ADOPTED);
      for (const format of ["md", "html", "csv"]) {
        const out = slo(
          ["report", "--month", "2026-03", "--config", "slo.yaml", "--format", format],
          agent.dir,
        );
        expect(out.code, out.stderr).toBe(0);
        expect(out.stdout.replaceAll("\\_", "_"), format).toMatch(ADOPTED);
      }
      const exported = slo(
        ["evidence", "export", "--month", "2026-03", "--out", "bundle", "--config", "slo.yaml"],
        agent.dir,
      );
      expect(exported.code, exported.stderr).toBe(0);
      const bundled = slo(["verify", "--bundle", "bundle"], agent.dir);
      expect(bundled.code, bundled.stderr).toBe(0);
      expect(bundled.stderr).toMatch(ADOPTED);
    },
    SLOW,
  );

  it(
    "the store locked by the insider at close: the check still runs first, and what it could not write is logged at error",
    () => {
      const agent = running();
      rollBack(agent);
      const insider = new Database(join(agent.dir, "data", "evidence.sqlite"));
      insider.exec("BEGIN EXCLUSIVE");
      const pending = Date.UTC(2026, 3, 1, 0, 3, 5);
      for (const r of hourly(pending, pending + 1)) agent.store.record(r);
      try {
        agent.store.close();
      } finally {
        insider.exec("ROLLBACK");
        insider.close();
      }
      expect(agent.lines.filter((l) => l.startsWith("error "))).toContainEqual(
        expect.stringMatching(
          /^error evidence store: error: the store went back under this agent: record seq \d+, .*; the rollback record could not be written \(SQLITE_BUSY\)$/,
        ),
      );
      expect(agent.lines).toContain("error evidence store closed with 3 results it could not write");
    },
    SLOW,
  );
});

describe("only the newest checkpoint deleted under a running writer (fifth audit, 12)", () => {
  it("the refusal says its own checkpoint is gone, not that it did not write its records", () => {
    const agent = running();
    agent.batch();
    agent.batch();
    sql(agent.dir, (db) =>
      db.prepare("DELETE FROM checkpoints WHERE id = (SELECT max(id) FROM checkpoints)").run(),
    );
    agent.batch();
    const refusal = agent.store.signingRefusal();
    expect(refusal).toMatch(
      /^the store went back under this agent: the checkpoint it signed at 2026-04-01T00:02:00\.000Z over its own records up to seq \d+ and input records up to seq \d+ is gone \(the newest checkpoint left is of 2026-04-01T00:01:00\.000Z, head seq \d+, input seq \d+\): checkpoints were deleted/,
    );
    expect(refusal).not.toContain("this process did not write them");
    expect(rollbackRecords(agent.dir)).toHaveLength(1);
    agent.store.close();
  });

  it("the same for a configuration record it signed (a reload's): its checkpoint deleted, the records kept", () => {
    const agent = running();
    agent.batch();
    agent.store.recordInput("config", { maintenance: { windows: [] }, reloaded: true });
    sql(agent.dir, (db) =>
      db.prepare("DELETE FROM checkpoints WHERE id = (SELECT max(id) FROM checkpoints)").run(),
    );
    agent.batch();
    const refusal = agent.store.signingRefusal();
    expect(refusal).toMatch(
      /^the store went back under this agent: the checkpoint it signed at .* over its own records up to seq \d+ and input records up to seq \d+ is gone/,
    );
    expect(refusal).not.toContain("not by this process");
    agent.store.close();
  });
});
