import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/result.js";
import { DAY_MS } from "../../src/model/time.js";
import { type EvidenceStore, openEvidenceStore } from "../../src/record/index.js";
import { generateResults } from "./results.js";

const START = Date.UTC(2026, 9, 1);
const dirs: string[] = [];
const stores: EvidenceStore[] = [];

function open(): EvidenceStore {
  const dir = mkdtempSync(join(tmpdir(), "slo-import-batches-"));
  dirs.push(dir);
  const store = openEvidenceStore({ dataDir: dir, clock: new FakeClock(START), logger: () => {} });
  stores.push(store);
  return store;
}

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const month = [...generateResults(START, 400)];
const slower = (r: ProbeResult): ProbeResult => ({ ...r, durationMs: r.durationMs + 1000 });

/** What a store holds, for comparing two stores built different ways. */
function contents(store: EvidenceStore) {
  const period = { from: START, to: START + 40 * DAY_MS };
  return {
    head: store.chainHead(),
    results: [...store.results(period)],
    rollups: [...store.rollups(period)],
    verified: store.verify().ok,
  };
}

// Imports write many rows per statement; every case must leave the store exactly as recording
// the same results one at a time (the daemon's row-by-row path) does.
const cases: { rule: string; imports: ProbeResult[][] }[] = [
  { rule: "a fresh import of many batches and a ragged tail chains as row by row", imports: [month] },
  { rule: "re-importing the same results stores nothing and keeps the head", imports: [month, month] },
  {
    rule: "an import overlapping stored results stores only the new ones",
    imports: [month.slice(0, 200), month.slice(100, 400)],
  },
  {
    rule: "stored results scattered through an import are skipped and the rest still chain",
    imports: [month.filter((_, i) => i % 50 === 7), month],
  },
  {
    rule: "a result repeated inside one import is stored once",
    imports: [[...month.slice(0, 130), month[129]!, month[3]!, ...month.slice(130)]],
  },
];

describe("import in multi-row batches", () => {
  it("refuses a probe + ts repeated inside one import with other content, storing nothing", () => {
    const imported = open();
    const results = [...month.slice(0, 130), slower(month[3]!), ...month.slice(130)];
    expect(() => imported.importResults(results)).toThrow(/same probe and ts as line 3, with other content/);
    expect(imported.chainHead().records).toBe(0);
  });

  it("refuses a result that meets a stored record with other content", () => {
    const imported = open();
    imported.importResults(month.slice(0, 10));
    expect(() => imported.importResults([slower(month[4]!)])).toThrow(/already stored \(record seq 5\)/);
    expect(imported.importResults(month.slice(0, 12))).toMatchObject({ imported: 2, alreadyPresent: 10 });
  });

  for (const c of cases) {
    it(c.rule, () => {
      const imported = open();
      const outcomes = c.imports.map((results) => imported.importResults(results));
      const recorded = open();
      for (const results of c.imports) {
        const sorted = [...results].sort(
          (a, b) => a.ts - b.ts || (a.probe < b.probe ? -1 : a.probe > b.probe ? 1 : 0),
        );
        for (const result of sorted) recorded.record(result);
        recorded.flush();
      }
      expect(contents(imported)).toEqual(contents(recorded));
      expect(contents(imported).verified).toBe(true);
      const stored = outcomes.reduce((sum, o) => sum + o.imported, 0);
      expect(stored).toBe(imported.chainHead().records);
    });
  }
});
