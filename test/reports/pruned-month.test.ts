import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { buildMonthlyReport } from "../../src/reports/index.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * A month whose raw records retention pruned (contract section 1, amended): the report counts it
 * from the stored rollups, takes p99 from their HDR histograms and says so (latency_source).
 */

const DAY = 86_400_000;
const MARCH = Date.UTC(2026, 2, 1);
const APRIL = Date.UTC(2026, 3, 1);
const config = fixtureConfig();
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Every 10 minutes in [from, to): durations spread over 40..2 000 ms, every 17th a 503. */
function results(from: number, to: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = from, i = 0; t < to; t += 600_000, i++) {
    out.push({
      ts: t,
      probe: "payment-request-read",
      category: "payment_request",
      status: i % 17 === 0 ? 503 : 200,
      durationMs: 40 + ((i * 7919) % 1961),
      error: null,
      errorCode: null,
      correlationId: null,
    });
  }
  return out;
}

function storeWith(retentionDays: number) {
  const dir = mkdtempSync(join(tmpdir(), "slo-pruned-"));
  dirs.push(dir);
  const clock = new FakeClock(APRIL + 5 * DAY);
  const store = openEvidenceStore({ dataDir: join(dir, "data"), clock, retentionDays, logger: () => {} });
  store.importResults(results(MARCH, APRIL + 5 * DAY));
  return store;
}

function paymentRequest(store: ReturnType<typeof storeWith>, now: number) {
  const report = buildMonthlyReport({ config, store, month: "2026-03", now });
  return report.categories.find((c) => c.category === "payment_request")!;
}

describe("a month pruned by retention", () => {
  it("is reported from the rollups: same counts, p99 from HDR within its precision, said so", () => {
    const store = storeWith(10);
    try {
      const exact = paymentRequest(store, APRIL + 5 * DAY);
      expect(exact.latency_source).toBe("exact");
      expect(exact.requests).toBe(31 * 144);
      // Ten days' retention on 20 April: every record (March and 1-5 April) is gone, the rollups are kept.
      const now = APRIL + 20 * DAY;
      expect(store.prune(now).pruned).toBe(36 * 144);
      expect([...store.results({ from: MARCH, to: APRIL })]).toEqual([]);
      const pruned = paymentRequest(store, now);
      expect(pruned.latency_source).toBe("histogram");
      expect(pruned.requests).toBe(exact.requests);
      expect(pruned.successful).toBe(exact.successful);
      expect(pruned.availability_pct).toBe(exact.availability_pct);
      expect(Math.abs(pruned.latency_p99_ms! - exact.latency_p99_ms!)).toBeLessThanOrEqual(
        exact.latency_p99_ms! / 1000,
      );
    } finally {
      store.close();
    }
  });

  it("half pruned: the pruned days from rollups, the rest from raw records, nothing counted twice", () => {
    const store = storeWith(20);
    try {
      const exact = paymentRequest(store, APRIL + 5 * DAY);
      // Twenty days' retention on 5 April: records before 17 March are gone.
      expect(store.prune(APRIL + 5 * DAY).pruned).toBe(16 * 144);
      const mixed = paymentRequest(store, APRIL + 5 * DAY);
      expect(mixed.latency_source).toBe("histogram");
      expect(mixed.requests).toBe(exact.requests);
      expect(mixed.successful).toBe(exact.successful);
      expect(Math.abs(mixed.latency_p99_ms! - exact.latency_p99_ms!)).toBeLessThanOrEqual(
        exact.latency_p99_ms! / 1000,
      );
    } finally {
      store.close();
    }
  });

  it("a month untouched by pruning keeps the exact p99", () => {
    const store = storeWith(20);
    try {
      store.prune(APRIL + 5 * DAY);
      const april = buildMonthlyReport({ config, store, month: "2026-04", now: APRIL + 5 * DAY });
      expect(april.categories.find((c) => c.category === "payment_request")!.latency_source).toBe("exact");
    } finally {
      store.close();
    }
  });
});
