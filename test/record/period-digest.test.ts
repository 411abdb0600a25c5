import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/result.js";
import { DAY_MS } from "../../src/model/time.js";
import { canonicalForm } from "../../src/record/evidence/canonical.js";
import { openEvidenceStore, verifyEvidence } from "../../src/record/index.js";
import { RESULT_COLUMNS, type ResultRow, resultOfRow } from "../../src/record/rows.js";
import { generateResults } from "./results.js";

const OCTOBER = { from: Date.UTC(2026, 9, 1), to: Date.UTC(2026, 10, 1) };
const NOVEMBER = Date.UTC(2026, 10, 1);
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** `count` results from `day` days into October (or November for `month: 11`). */
function batch(month: 10 | 11, day: number, count: number): ProbeResult[] {
  const start = (month === 10 ? OCTOBER.from : NOVEMBER) + day * DAY_MS;
  return [...generateResults(start, count)];
}

/**
 * The digest as docs/evidence-store.md defines it, worked out here from the raw table: the
 * canonical forms of the period's records, sorted by their UTF-8 bytes, each followed by "\n".
 */
function documentedDigest(dir: string, from: number, to: number): { records: number; sha256: string } {
  const db = new Database(join(dir, "evidence.sqlite"), { readonly: true });
  const rows = db.prepare(`SELECT ${RESULT_COLUMNS} FROM results`).all() as ResultRow[];
  db.close();
  const canonicals = rows
    .filter((r) => r.ts >= from && r.ts < to)
    .map((r) => Buffer.from(canonicalForm(resultOfRow(r)), "utf8"))
    .sort(Buffer.compare);
  const sha = createHash("sha256");
  for (const c of canonicals) sha.update(Buffer.concat([c, Buffer.from("\n")]));
  return { records: canonicals.length, sha256: sha.digest("hex") };
}

describe("the digest of a period", () => {
  const cases: { rule: string; imports: ProbeResult[][] }[] = [
    {
      rule: "covers a month chained in one run of seqs",
      imports: [batch(10, 0, 300), batch(11, 0, 40)],
    },
    {
      rule: "covers a month chained alternately with the next one, in ts order within each",
      imports: Array.from({ length: 12 }, (_, i) => batch(i % 2 === 0 ? 10 : 11, i, 25)),
    },
    {
      rule: "covers a month whose backfill was chained long after the next month's records",
      imports: [batch(10, 2, 20), batch(11, 0, 600), batch(10, 0, 30), batch(10, 20, 5)],
    },
    {
      rule: "covers the last records of a month that ends the chain",
      imports: [batch(11, 0, 200), batch(10, 30, 13)],
    },
    { rule: "is the digest of nothing for a month without records", imports: [batch(11, 0, 50)] },
  ];

  for (const c of cases) {
    it(`${c.rule}: every record with ts in the period, in byte order, as documented`, () => {
      const dir = mkdtempSync(join(tmpdir(), "slo-digest-"));
      dirs.push(dir);
      const store = openEvidenceStore({ dataDir: dir, clock: new FakeClock(NOVEMBER), logger: () => {} });
      for (const results of c.imports) store.importResults(results);
      const head = store.chainHead(OCTOBER);
      store.close();
      expect(head).toEqual(documentedDigest(dir, OCTOBER.from, OCTOBER.to));
      expect(verifyEvidence(dir, { month: "2026-10" })).toMatchObject({ ok: true, ...head });
    });
  }

  it("made in the verification's pass is the same whether a report reads all, part or none of it there", () => {
    const dir = mkdtempSync(join(tmpdir(), "slo-digest-"));
    dirs.push(dir);
    const store = openEvidenceStore({ dataDir: dir, clock: new FakeClock(NOVEMBER), logger: () => {} });
    for (const results of [batch(10, 0, 300), batch(11, 0, 40), batch(10, 20, 5)])
      store.importResults(results);
    const head = store.chainHead(OCTOBER);
    for (const take of [Number.POSITIVE_INFINITY, 7, 0]) {
      let read = 0;
      let digest: unknown = null;
      const verification = store.verifyPeriod(OCTOBER, (records) => {
        for (const result of records.results) {
          if (read >= take) break;
          expect(result.ts).toBeGreaterThanOrEqual(OCTOBER.from);
          read++;
        }
        digest = records.digest();
      });
      expect(verification).toMatchObject({ problem: null, ...head });
      expect(digest).toEqual(head);
      expect(read).toBe(Math.min(take, head.records));
    }
    // A report that fails halfway (an unknown --category) fails with its own error, and the store reads on.
    const failing = () =>
      store.verifyPeriod(OCTOBER, (records) => {
        for (const _ of records.results) throw new RangeError("unknown category");
      });
    expect(failing).toThrow("unknown category");
    expect(store.chainHead(OCTOBER)).toEqual(head);
    store.close();
  });

  it("of a period with one bound open reaches to the start or end of the chain", () => {
    const dir = mkdtempSync(join(tmpdir(), "slo-digest-"));
    dirs.push(dir);
    const store = openEvidenceStore({ dataDir: dir, clock: new FakeClock(NOVEMBER), logger: () => {} });
    for (const results of [batch(10, 3, 40), batch(11, 1, 30), batch(10, 1, 20)])
      store.importResults(results);
    const before = store.chainHead({ to: NOVEMBER });
    const after = store.chainHead({ from: NOVEMBER });
    store.close();
    expect(before).toEqual(documentedDigest(dir, Number.MIN_SAFE_INTEGER, NOVEMBER));
    expect(after).toEqual(documentedDigest(dir, NOVEMBER, Number.MAX_SAFE_INTEGER));
    expect([before.records, after.records]).toEqual([60, 30]);
  });

  it("is the same for the same results chained in another order and split (records sharing a ts too)", () => {
    // Same ts, probes whose UTF-16 and UTF-8 orders differ: the digest sorts by UTF-8 bytes.
    const sameTs = ["p-\uff01", "p-\u{1f600}", "p-a"].map((probe) => ({
      ...batch(10, 4, 1)[0]!,
      probe,
    }));
    const parts = [batch(10, 0, 60), sameTs, batch(10, 9, 40), batch(11, 0, 20)];
    const heads = [parts, [parts[3]!, parts[2]!, ...parts[1]!.map((r) => [r]).reverse(), parts[0]!]].map(
      (imports) => {
        const dir = mkdtempSync(join(tmpdir(), "slo-digest-"));
        dirs.push(dir);
        const store = openEvidenceStore({ dataDir: dir, clock: new FakeClock(NOVEMBER), logger: () => {} });
        for (const results of imports) store.importResults(results);
        const head = store.chainHead(OCTOBER);
        store.close();
        expect(verifyEvidence(dir, { month: "2026-10" })).toMatchObject({ ok: true, ...head });
        expect(head).toEqual(documentedDigest(dir, OCTOBER.from, OCTOBER.to));
        return head;
      },
    );
    expect(heads[1]).toEqual(heads[0]);
    expect(heads[0]!.records).toBe(103);
  });
});
