import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, expect, it } from "vitest";
import { monthEvidence, sealOf } from "../../src/cli/evidence-seal.js";
import { FakeClock } from "../../src/clock/fake.js";
import { importResultFile, openEvidenceStore } from "../../src/record/index.js";
import { sealReport } from "../../src/reports/evidence.js";
import { buildMonthlyReport, renderReport } from "../../src/reports/index.js";
import { fixtureConfig } from "../support/slo-config.js";

// The evidence a month's report rests on must not depend on how it arrived: the same results
// imported in any order, split into any number of files, give the same report to the byte,
// digest, statement and signature included (one agent key, one clock). The results span 13
// minutes: a record chained 15 minutes or more behind a newer one is back-dated, a warning that
// reports the order records arrived in, so a wider span would rightly differ there.
const root = mkdtempSync(join(tmpdir(), "slo-import-order-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const base = fixtureConfig();
const config = { ...base, agent: { ...base.agent, signingKeyFile: join(root, "agent.key") } };
const T0 = Date.UTC(2026, 9, 1);
const NOW = Date.UTC(2026, 10, 5);
const FORMATS = ["json", "md", "html", "csv"] as const;

/** 80 results of both configured probes with responses, 5xx and timeouts (some recorded short). */
const LINES = Array.from({ length: 80 }, (_, i) => {
  const settlements = i % 2 === 1;
  const timeout = i % 13 === 0;
  return JSON.stringify({
    ts: new Date(T0 + Math.floor(i / 2) * 20_000 + (settlements ? 5 : 0)).toISOString(),
    probe: settlements ? "settlements-list" : "payment-request-read",
    category: settlements ? "settlements" : "payment_request",
    status: timeout ? null : i % 11 === 0 ? 503 : 200,
    duration_ms: timeout ? 1 + i : 40 + ((i * 37) % 900) + (i % 7) / 8,
    error: timeout ? "timeout" : null,
  });
});

let runs = 0;
/** The signed report in every text format, of a fresh store the files were imported into in turn. */
async function reportOf(files: readonly string[][]): Promise<string> {
  const dir = join(root, `run-${runs++}`);
  const dataDir = join(dir, "data");
  const store = openEvidenceStore({
    dataDir,
    clock: new FakeClock(NOW),
    logger: () => {},
    signingKeyFile: config.agent.signingKeyFile,
  });
  try {
    for (const [i, lines] of files.entries()) {
      const file = join(root, `run-${runs}-${i}.ndjson`);
      writeFileSync(file, `${lines.join("\n")}\n`);
      const outcome = await importResultFile(store, file, { known: null, skipInvalid: false });
      expect(outcome.rejected).toEqual([]);
    }
    const month = "2026-10";
    const report = buildMonthlyReport({ config, store, month, now: NOW });
    const evidence = monthEvidence({
      command: "test",
      store,
      config,
      dataDir,
      month,
      now: NOW,
      signatureRequired: true,
    });
    const sealed = sealReport(report, { ...sealOf(evidence), timestamp: null });
    return FORMATS.map((format) => renderReport(sealed, format)).join("\n----\n");
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

it("the same results in any order and any split give a byte-identical signed report", async () => {
  const reference = await reportOf([LINES]);
  const json = JSON.parse(reference.slice(0, reference.indexOf("\n----\n")));
  expect(json.categories[0].requests).toBeGreaterThan(0);
  expect(json.evidence).toMatchObject({ verified: true, records: LINES.length });
  expect(json.evidence.signature.value).toMatch(/^[A-Za-z0-9+/]+=*$/);
  await fc.assert(
    fc.asyncProperty(shuffledSplits, async (files) => {
      expect(await reportOf(files)).toBe(reference);
    }),
    { numRuns: 6 },
  );
}, 600_000);
