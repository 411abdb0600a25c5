import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect } from "vitest";
import type { ProbeResult } from "../../src/model/index.js";
import { canonicalForm, chainHashHex } from "../../src/record/evidence/canonical.js";
import { type ResultRow, resultOfRow } from "../../src/record/rows.js";
import { type CliOutcome, slo } from "../reports/cli-run.js";

/**
 * What the evidence suites share: months of results to store, raw SQL on a store, the forgeries
 * made with it, and the honest import that must refuse to sign over them.
 */

const HOUR = 3_600_000;
export const CATEGORIES = ["payment_request", "settlements", "disputes"] as const;

/** One 200 result an hour per category in [from, to), a second apart, as the attacks' store holds. */
export function hourly(from: number, to: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = from; t < to; t += HOUR) {
    CATEGORIES.forEach((category, i) => {
      out.push({
        ts: t + i * 1000,
        probe: `${category.replaceAll("_", "-")}-read`,
        category,
        status: 200,
        durationMs: 100 + i,
        error: null,
        errorCode: null,
        correlationId: null,
      });
    });
  }
  return out;
}

/** One payment_request result an hour in [from, to), a 503 every seventh hour (a bundle's month). */
export function hourlyPaymentRequests(from: number, to: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = from; t < to; t += HOUR) {
    out.push({
      ts: t,
      probe: "payment-request-read",
      category: "payment_request",
      status: t % (7 * HOUR) === 0 ? 503 : 200,
      durationMs: 100,
      error: null,
      errorCode: null,
      correlationId: null,
    });
  }
  return out;
}

/** Runs `attack` on `dir`/data/evidence.sqlite opened directly, as someone with the file would. */
export function sql<T>(dir: string, attack: (db: Database.Database) => T): T {
  const db = new Database(join(dir, "data", "evidence.sqlite"));
  try {
    return attack(db);
  } finally {
    db.close();
  }
}

/** Records from seq `from` to the tail rewritten by `edit` and rechained, as an attacker without the key would. */
export function rechainToHead(
  db: Database.Database,
  from: number,
  edit: (r: ProbeResult) => ProbeResult,
): void {
  const rows = db.prepare("SELECT * FROM results WHERE seq >= ? ORDER BY seq").all(from) as ResultRow[];
  let previous = db
    .prepare("SELECT lower(hex(hash)) FROM results WHERE seq = ?")
    .pluck()
    .get(from - 1) as string;
  const update = db.prepare(
    "UPDATE results SET status = ?, prev_hash = unhex(?), hash = unhex(?) WHERE seq = ?",
  );
  for (const row of rows) {
    const result = edit(resultOfRow(row));
    const hash = chainHashHex(previous, canonicalForm(result));
    update.run(result.status, previous, hash, row.seq);
    previous = hash;
  }
}

/** How many checkpoints the store in `dir` holds. */
export const checkpoints = (dir: string) =>
  sql(dir, (db) => db.prepare("SELECT count(*) FROM checkpoints").pluck().get() as number);

/** One harmless result imported by the real CLI: the writer that used to sign over a forgery. */
export function importOne(dir: string, ts = "2026-12-06T09:00:00.000Z"): CliOutcome {
  writeFileSync(
    join(dir, "one.ndjson"),
    `{"ts":"${ts}","probe":"disputes-read","category":"disputes","status":200,"duration_ms":50,"error":null,"error_code":null,"correlation_id":null}\n`,
  );
  return slo(["import", "one.ndjson", "--config", "slo.yaml"], dir);
}

/** The import stored its records but refused to sign, for the reason `why`. */
export function expectRefused(run: { code: number | null; stderr: string }, why: string | RegExp): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toContain("slo-agent import: stored, but not signed:");
  expect(run.stderr).toMatch(why);
}
