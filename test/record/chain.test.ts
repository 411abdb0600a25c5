import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { DAY_MS } from "../../src/model/time.js";
import {
  canonicalForm,
  chainHash,
  describeProblem,
  GENESIS_HASH,
  openEvidenceStore,
  verifyEvidence,
} from "../../src/record/index.js";
import { generateResults } from "./results.js";

const START = Date.UTC(2026, 9, 1);
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A store with 50 records in October and 10 in November, closed, ready to be tampered with. */
function storeWithRecords(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-chain-"));
  dirs.push(dir);
  const clock = new FakeClock(START);
  const store = openEvidenceStore({ dataDir: dir, clock, logger: () => {} });
  store.importResults([...generateResults(START, 50)]);
  // Signed after November ended: a past month verifies only under a checkpoint from after its end.
  clock.advance(62 * DAY_MS);
  store.importResults([...generateResults(START + 31 * DAY_MS, 10)]);
  store.close();
  return dir;
}

function tamper(dir: string, sql: string): void {
  const db = new Database(join(dir, "evidence.sqlite"));
  db.exec(sql);
  db.close();
}

describe("the canonical form and the chain hash", () => {
  it("are the contract's NDJSON line with fixed field order, hashed after the previous hash in hex", () => {
    const result = {
      ts: Date.UTC(2026, 9, 1, 0, 0, 30),
      probe: "payment-request-read",
      category: "payment_request",
      status: 200,
      durationMs: 123.456,
      error: null,
      errorCode: null,
      correlationId: "c-1",
    };
    const canonical = canonicalForm(result);
    expect(canonical).toBe(
      '{"ts":"2026-10-01T00:00:30.000Z","probe":"payment-request-read","category":"payment_request",' +
        '"status":200,"duration_ms":123.456,"error":null,"error_code":null,"correlation_id":"c-1",' +
        '"phases":null,"server_ms":null}',
    );
    // Reproducible with any SHA-256 tool: printf '%s\n%s' <64 zeros> <canonical> | sha256sum
    const expected = createHash("sha256")
      .update(`${"0".repeat(64)}\n${canonical}`)
      .digest("hex");
    expect(chainHash(GENESIS_HASH, canonical).toString("hex")).toBe(expected);
  });
});

describe("verify", () => {
  it("passes an untouched store, for the whole chain and for one month", () => {
    const dir = storeWithRecords();
    expect(verifyEvidence(dir)).toMatchObject({ ok: true, records: 60 });
    expect(verifyEvidence(dir, { month: "2026-10" })).toMatchObject({ ok: true, records: 50 });
    expect(verifyEvidence(dir, { month: "2026-11" })).toMatchObject({ ok: true, records: 10 });
  });

  it("the month's head is the digest the report carries (chainHead of the month)", () => {
    const dir = storeWithRecords();
    const store = openEvidenceStore({ dataDir: dir, clock: new FakeClock(START), logger: () => {} });
    const head = store.chainHead({ from: START, to: Date.UTC(2026, 10, 1) });
    store.close();
    const verified = verifyEvidence(dir, { month: "2026-10" });
    expect(verified).toMatchObject({ ok: true, records: head.records, sha256: head.sha256 });
  });

  const cases: { rule: string; sql: string; month?: string; expected: RegExp }[] = [
    {
      rule: "an altered status is named as altered at its seq",
      sql: "UPDATE results SET status = 500 WHERE seq = 17",
      expected:
        /^altered: record seq 17 \(probe [a-z-]+, ts 2026-10-01T\d\d:\d\d:\d\d\.\d{3}Z\): its content/,
    },
    {
      rule: "an altered duration is found by a month check too",
      sql: "UPDATE results SET duration_ms = duration_ms - 1 WHERE seq = 30",
      month: "2026-10",
      expected: /^altered: record seq 30 /,
    },
    {
      rule: "an altered row whose hash was recomputed breaks the next record's link",
      sql: "UPDATE results SET status = 500, hash = zeroblob(32) WHERE seq = 20",
      expected: /^altered: record seq 20 /,
    },
    {
      rule: "a deleted row is missing",
      sql: "DELETE FROM results WHERE seq = 25",
      expected: /^missing: record seq 25: record seq 25 is missing before record seq 26/,
    },
    {
      rule: "a deleted row is missing in a month check even when it belongs to another month",
      sql: "DELETE FROM results WHERE seq = 55",
      month: "2026-10",
      expected: /^missing: record seq 55/,
    },
    {
      rule: "several deleted rows are named as a range",
      sql: "DELETE FROM results WHERE seq BETWEEN 10 AND 12",
      expected: /^missing: record seq 10: record seq 10\.\.12 are missing/,
    },
    {
      rule: "two swapped rows are reordered",
      sql: "UPDATE results SET seq = -1 WHERE seq = 5; UPDATE results SET seq = 5 WHERE seq = 6; UPDATE results SET seq = 6 WHERE seq = -1",
      expected: /^reordered: record seq 5 .*chained after record seq 6, not seq 4/,
    },
    {
      rule: "a row moved past the end of the chain leaves its place missing",
      sql: "UPDATE results SET seq = 1000 WHERE seq = 60",
      expected: /^missing: record seq 60: record seq 60\.\.999 are missing/,
    },
    {
      rule: "a changed ts (moving a result between months) is altered",
      sql: `UPDATE results SET ts = ts + ${DAY_MS} WHERE seq = 3`,
      expected: /^altered: record seq 3 /,
    },
  ];
  for (const c of cases) {
    it(c.rule, () => {
      const dir = storeWithRecords();
      tamper(dir, c.sql);
      const outcome = verifyEvidence(dir, { month: c.month });
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(describeProblem(outcome.problem)).toMatch(c.expected);
    });
  }

  it("a recomputed hash is caught at the next record when the altered one hashes correctly", () => {
    const dir = storeWithRecords();
    const db = new Database(join(dir, "evidence.sqlite"));
    const row = db.prepare("SELECT * FROM results WHERE seq = 20").get() as { prev_hash: Buffer };
    const store = openEvidenceStore({ dataDir: dir, clock: new FakeClock(START), logger: () => {} });
    const original = [...store.results({ from: START, to: START + DAY_MS })].find((_, i) => i === 19)!;
    store.close();
    const forged = chainHash(row.prev_hash, canonicalForm({ ...original, status: 500 }));
    db.prepare("UPDATE results SET status = 500, hash = ? WHERE seq = 20").run(forged);
    db.close();
    const outcome = verifyEvidence(dir);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(describeProblem(outcome.problem)).toMatch(
        /^altered: record seq 21 .*seq 20\) is not the one it was chained to/,
      );
    }
  });
});
