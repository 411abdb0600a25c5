import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { canonicalForm, chainHashHex } from "../../src/record/evidence/canonical.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { type ResultRow, resultOfRow } from "../../src/record/rows.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";
import { hourly, sql } from "./store-attack.js";

/**
 * A past month must be committed by the newest signed checkpoint: forging it without the key, by
 * rechaining only as far as the month's last record + 1, or by rolling the log back to a
 * checkpoint signed before the month ended, is exit 1 for report, verify --month and export.
 */

const SLOW = 240_000;
const MONTH = "2026-03";
const MARCH = Date.UTC(2026, 2, 1);
const APRIL = Date.UTC(2026, 3, 1);

let base: string;
const dirs: string[] = [];

/** Three imports, each followed by a signed checkpoint: mid-March, 2 April, 20 April. */
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "slo-reach-base-"));
  writeFileSync(join(base, "slo.yaml"), sloYaml("./data"));
  const clock = new FakeClock(Date.UTC(2026, 2, 16));
  const store = openEvidenceStore({ dataDir: join(base, "data"), clock });
  store.importResults(hourly(Date.UTC(2026, 1, 27), Date.UTC(2026, 2, 16)));
  clock.advance(Date.UTC(2026, 3, 2, 12) - clock.now());
  store.importResults(hourly(Date.UTC(2026, 2, 16), Date.UTC(2026, 3, 2)));
  clock.advance(Date.UTC(2026, 3, 20, 12) - clock.now());
  store.importResults(hourly(Date.UTC(2026, 3, 2), Date.UTC(2026, 3, 20)));
  store.close();
});

afterAll(() => {
  for (const dir of [base, ...dirs]) rmSync(dir, { recursive: true, force: true });
});

function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-reach-"));
  dirs.push(dir);
  cpSync(base, dir, { recursive: true });
  return dir;
}

const report = (dir: string) =>
  slo(["report", "--month", MONTH, "--config", "slo.yaml", "--format", "json"], dir);
const verifyMonth = (dir: string) => slo(["verify", "--data-dir", "data", "--month", MONTH], dir);
const exportMonth = (dir: string) =>
  slo(["evidence", "export", "--month", MONTH, "--out", "bundle", "--config", "slo.yaml"], dir);

/** Every record with seq in [from, to] rewritten by `edit` and rechained, as an attacker with the schema would. */
function rechain(
  db: Database.Database,
  from: number,
  to: number,
  edit: (r: ProbeResult) => ProbeResult,
): void {
  const rows = db
    .prepare("SELECT * FROM results WHERE seq >= ? AND seq <= ? ORDER BY seq")
    .all(from, to) as ResultRow[];
  let previous = db
    .prepare("SELECT lower(hex(hash)) FROM results WHERE seq = ?")
    .pluck()
    .get(from - 1) as string;
  const update = db.prepare(
    "UPDATE results SET status = ?, error = ?, duration_ms = ?, prev_hash = unhex(?), hash = unhex(?) WHERE seq = ?",
  );
  for (const row of rows) {
    const result = edit(resultOfRow(row));
    const hash = chainHashHex(previous, canonicalForm(result));
    update.run(result.status, result.error, result.durationMs, previous, hash, row.seq);
    previous = hash;
  }
}

const as503 = (r: ProbeResult): ProbeResult =>
  r.ts >= Date.UTC(2026, 2, 20) && r.ts < Date.UTC(2026, 2, 22) ? { ...r, status: 503 } : r;

describe("a month reaches the newest signed checkpoint", () => {
  it(
    "the intact store reports, verifies and exports the month",
    () => {
      const dir = copy();
      expect(report(dir).code).toBe(0);
      expect(verifyMonth(dir).code).toBe(0);
      expect(exportMonth(dir).code).toBe(0);
    },
    SLOW,
  );

  it(
    "two days rewritten as 503s and rechained up to the month's last seq + 1: exit 1 naming the first broken link",
    () => {
      const dir = copy();
      const last = sql(dir, (db) => {
        const [first, last] = db
          .prepare("SELECT min(seq), max(seq) FROM results WHERE ts >= ? AND ts < ?")
          .raw(true)
          .get(Date.UTC(2026, 2, 20), APRIL) as [number, number];
        rechain(db, first, last + 1, as503);
        return last;
      });
      for (const run of [report(dir), verifyMonth(dir), exportMonth(dir)]) {
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toContain(`record seq ${last + 2} `);
      }
    },
    SLOW,
  );

  it(
    "the same rewrite rechained to the head: exit 1 naming the first signed checkpoint the rewrite broke",
    () => {
      const dir = copy();
      const checkpointHead = sql(dir, (db) => {
        const first = db
          .prepare("SELECT min(seq) FROM results WHERE ts >= ?")
          .pluck()
          .get(Date.UTC(2026, 2, 20)) as number;
        const tail = db.prepare("SELECT max(seq) FROM results").pluck().get() as number;
        rechain(db, first, tail, as503);
        return db
          .prepare("SELECT min(head_seq) FROM checkpoints WHERE head_seq >= ?")
          .pluck()
          .get(first) as number;
      });
      for (const run of [report(dir), verifyMonth(dir)]) {
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toContain(`record seq ${checkpointHead} `);
        expect(run.stderr).toContain("signed checkpoint");
      }
    },
    SLOW,
  );

  it(
    "a record altered after the month, its hash left as it was: exit 1 naming it",
    () => {
      const dir = copy();
      const seq = sql(dir, (db) => {
        const seq = db
          .prepare("SELECT min(seq) FROM results WHERE ts >= ?")
          .pluck()
          .get(Date.UTC(2026, 3, 10)) as number;
        db.prepare("UPDATE results SET status = 500 WHERE seq = ?").run(seq);
        return seq;
      });
      const run = verifyMonth(dir);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`altered: record seq ${seq} `);
    },
    SLOW,
  );

  it(
    "the newest checkpoints deleted with every record after the mid-March one: exit 1, the month is not committed past its end",
    () => {
      const dir = copy();
      sql(dir, (db) => {
        const oldest = db.prepare("SELECT id, head_seq FROM checkpoints ORDER BY id LIMIT 1").get() as {
          id: number;
          head_seq: number;
        };
        db.prepare("DELETE FROM checkpoints WHERE id > ?").run(oldest.id);
        db.prepare("DELETE FROM results WHERE seq > ?").run(oldest.head_seq);
      });
      for (const run of [report(dir), verifyMonth(dir), exportMonth(dir)]) {
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toContain("before the end of the period");
      }
    },
    SLOW,
  );

  it(
    "records forged after the newest checkpoint into the month: exit 1, they are not committed",
    () => {
      const dir = copy();
      sql(dir, (db) => {
        db.prepare("DELETE FROM checkpoints WHERE id > (SELECT min(id) FROM checkpoints)").run();
        const head = db.prepare("SELECT head_seq FROM checkpoints").pluck().get() as number;
        // Drop what came after the remaining checkpoint and append a forged rest of March, chained properly.
        db.prepare("DELETE FROM results WHERE seq > ?").run(head);
        let previous = db
          .prepare("SELECT lower(hex(hash)) FROM results WHERE seq = ?")
          .pluck()
          .get(head) as string;
        const insert = db.prepare(
          `INSERT INTO results (seq, ts, probe, category, status, duration_ms, prev_hash, hash)
           VALUES (?, ?, ?, ?, ?, ?, unhex(?), unhex(?))`,
        );
        let seq = head;
        for (const r of hourly(Date.UTC(2026, 2, 16), APRIL)) {
          const hash = chainHashHex(previous, canonicalForm(r));
          insert.run(++seq, r.ts, r.probe, r.category, r.status, r.durationMs, previous, hash);
          previous = hash;
        }
      });
      for (const run of [report(dir), verifyMonth(dir)]) {
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toContain("not committed by the newest signed checkpoint");
      }
    },
    SLOW,
  );
});

void MARCH;
