import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { importResultFile, openEvidenceStore } from "../../src/record/index.js";
import { buildMonthlyReport, renderReport } from "../../src/reports/index.js";
import { fixtureConfig } from "../support/slo-config.js";

// The evidence a month's report rests on must not depend on how it arrived: the same results
// imported in any order, split into any number of files, give the same report to the byte.
const config = fixtureConfig();
const T0 = Date.UTC(2026, 9, 1);
const NOW = Date.UTC(2026, 10, 5);
const root = mkdtempSync(join(tmpdir(), "slo-import-order-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** 80 results of both configured probes with responses, 5xx and timeouts (some recorded short). */
const LINES = Array.from({ length: 80 }, (_, i) => {
  const settlements = i % 2 === 1;
  const timeout = i % 13 === 0;
  return JSON.stringify({
    ts: new Date(T0 + Math.floor(i / 2) * 30_000 + (settlements ? 5 : 0)).toISOString(),
    probe: settlements ? "settlements-list" : "payment-request-read",
    category: settlements ? "settlements" : "payment_request",
    status: timeout ? null : i % 11 === 0 ? 503 : 200,
    duration_ms: timeout ? 1 + i : 40 + ((i * 37) % 900) + (i % 7) / 8,
    error: timeout ? "timeout" : null,
  });
});

let runs = 0;
async function reportOf(files: readonly string[][]): Promise<string> {
  const dir = join(root, `run-${runs++}`);
  const store = openEvidenceStore({
    dataDir: join(dir, "data"),
    clock: new FakeClock(NOW),
    logger: () => {},
  });
  try {
    for (const [i, lines] of files.entries()) {
      const file = join(root, `run-${runs}-${i}.ndjson`);
      writeFileSync(file, `${lines.join("\n")}\n`);
      const outcome = await importResultFile(store, file, { known: null, skipInvalid: false });
      expect(outcome.rejected).toEqual([]);
    }
    return renderReport(buildMonthlyReport({ config, store, month: "2026-10", now: NOW }), "json");
  } finally {
    store.close();
  }
}

/** A file's lines in any order, cut into up to five files. */
const shuffledSplits = fc
  .tuple(
    fc.shuffledSubarray(LINES, { minLength: LINES.length }),
    fc.array(fc.nat(LINES.length), { maxLength: 4 }),
  )
  .map(([order, cuts]) => {
    const bounds = [0, ...[...new Set(cuts)].sort((a, b) => a - b), order.length];
    return bounds.slice(1).map((end, i) => order.slice(bounds[i], end));
  });

/**
 * The report without its evidence digest: files imported one after another are chained in that
 * order, so the digest (over the chain hashes) tells the store's history apart, by design.
 */
function figuresOf(json: string): unknown {
  const { evidence, ...figures } = JSON.parse(json) as { evidence: { records: number } };
  return { ...figures, records: evidence.records };
}

it("one file in any order gives a byte-identical JSON report; any split, identical figures", async () => {
  const reference = await reportOf([LINES]);
  expect(JSON.parse(reference).categories[0].requests).toBeGreaterThan(0);
  await fc.assert(
    fc.asyncProperty(shuffledSplits, async (files) => {
      const whole = files.flat();
      expect(await reportOf([whole])).toBe(reference);
      expect(figuresOf(await reportOf(files))).toEqual(figuresOf(reference));
    }),
    { numRuns: 4 },
  );
}, 600_000);
