import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { monthStatement, openEvidenceStore, statementBytes } from "../../src/record/index.js";

/**
 * The statement says what the month's records are, not where one store chained them: the same
 * records imported in any order or split give byte-identical statements (contract section 13).
 */

const HOUR = 3_600_000;
const MARCH = { from: Date.UTC(2026, 2, 1), to: Date.UTC(2026, 3, 1) };
const dirs: string[] = [];

function hourly(from: number, to: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = from; t < to; t += HOUR) {
    out.push({
      ts: t,
      probe: "payment-request-read",
      category: "payment_request",
      status: t % (5 * HOUR) === 0 ? 503 : 200,
      durationMs: 100 + (t % 7),
      error: null,
      errorCode: null,
      correlationId: null,
    });
  }
  return out;
}

function statementAfter(imports: readonly ProbeResult[][]): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "slo-order-"));
  dirs.push(dir);
  const store = openEvidenceStore({ dataDir: dir, clock: new FakeClock(Date.UTC(2026, 3, 3)) });
  for (const batch of imports) store.importResults(batch);
  const verification = store.verifyPeriod(MARCH);
  store.close();
  expect(verification.problem).toBeNull();
  return statementBytes(
    monthStatement({
      month: "2026-03",
      verification,
      configSha256: "c".repeat(64),
      agent: "probe-eu-1",
      agentVersion: "0.1.0",
      generatedAt: Date.UTC(2026, 3, 3),
    }),
  );
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("the monthly statement", () => {
  it("is byte-identical for the same records imported in another order and split", () => {
    const february = hourly(Date.UTC(2026, 1, 20), MARCH.from);
    const march = hourly(MARCH.from, MARCH.to);
    const april = hourly(MARCH.to, Date.UTC(2026, 3, 2));
    const inOrder = statementAfter([[...february, ...march, ...april]]);
    const third = Math.floor(march.length / 3);
    const shuffled = statementAfter([
      april,
      march.slice(2 * third),
      february,
      march.slice(0, third).reverse(),
      march.slice(third, 2 * third),
    ]);
    expect(shuffled.toString("utf8")).toBe(inOrder.toString("utf8"));
    expect(JSON.parse(inOrder.toString("utf8"))).toMatchObject({ records: march.length });
  });
});
