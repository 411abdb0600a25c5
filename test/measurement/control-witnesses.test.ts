import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { Control, SloConfig } from "../../src/model/config.js";
import type { ProbeResult } from "../../src/model/result.js";
import { CONTROL_CATEGORY, controlProbeId } from "../../src/model/validity.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { buildMonthlyReport, renderReport } from "../../src/reports/index.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * Contract section 14: controls are witnesses only while healthy and consistent. Ten days of a
 * provider probe every 2 minutes with a genuine 6-hour timeout outage (180 requests) in a real
 * SQLite evidence store, beside controls in various states, reported by the report builder.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOV = Date.UTC(2026, 10, 1);
const UNTIL = NOV + 10 * 24 * HOUR;
const OUTAGE = { start: NOV + 5 * 24 * HOUR, end: NOV + 5 * 24 * HOUR + 6 * HOUR };
const CONTROL_EVERY = 30_000;
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function control(id: string): Control {
  return { id, kind: "http", url: "http://127.0.0.1:9/", intervalMs: CONTROL_EVERY, timeoutMs: 5_000 };
}

function provider(ts: number, down: boolean): ProbeResult {
  return {
    ts,
    probe: "payment-request-read",
    category: "payment_request",
    status: down ? null : 200,
    durationMs: down ? 10_000 : 80,
    error: down ? "timeout" : null,
    errorCode: null,
    correlationId: null,
  };
}

/** A control's results every 30 s (offset by 7 s from the provider's), up when `up(ts)`. */
function controlResults(id: string, up: (ts: number) => boolean): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let ts = NOV - 24 * HOUR + 7_000; ts < UNTIL; ts += CONTROL_EVERY) {
    const ok = up(ts);
    out.push({
      ts,
      probe: controlProbeId(id),
      category: CONTROL_CATEGORY,
      status: ok ? 200 : null,
      durationMs: ok ? 5 : 3,
      error: ok ? null : "connect",
      errorCode: null,
      correlationId: null,
    });
  }
  return out;
}

const inOutage = (ts: number) => ts >= OUTAGE.start && ts < OUTAGE.end;

function providerMonth(): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let ts = NOV; ts < UNTIL; ts += 2 * MIN) out.push(provider(ts, inOutage(ts)));
  return out;
}

/** Deterministic coin flips (mulberry32), so that "random" failures are the same every run. */
function coin(seed: number): () => boolean {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 < 0.5;
  };
}

function reportWith(
  controls: Record<string, (ts: number) => boolean>,
  over: Partial<SloConfig> = {},
  observe: (result: ProbeResult) => ProbeResult = (result) => result,
) {
  const dir = mkdtempSync(join(tmpdir(), "slo-witness-"));
  dirs.push(dir);
  const store = openEvidenceStore({
    dataDir: join(dir, "data"),
    clock: new FakeClock(UNTIL),
    logger: () => {},
  });
  try {
    const results = [
      ...providerMonth(),
      ...Object.entries(controls).flatMap(([id, up]) => controlResults(id, up)),
    ];
    store.importResults(results.map(observe).sort((a, b) => a.ts - b.ts));
    const base = fixtureConfig();
    // The provider probe runs every 2 minutes, as recorded above.
    const probes = base.probes.map((p) => ({
      ...p,
      schedule: { kind: "every" as const, intervalMs: 2 * MIN },
    }));
    const config = fixtureConfig({ probes, controls: Object.keys(controls).map(control), ...over });
    const report = buildMonthlyReport({
      config,
      store,
      month: "2026-11",
      now: UNTIL,
      categories: ["payment_request"],
    });
    return { report, category: report.categories[0]! };
  } finally {
    store.close();
  }
}

const TOTAL = 7200;
const OUTAGE_REQUESTS = 180;
const merchantSide = (r: ReturnType<typeof reportWith>["report"]) =>
  r.automatic_exclusions.filter((x) => x.reason === "merchant_side").reduce((n, x) => n + x.requests, 0);

describe("controls are witnesses only while healthy and consistent", { timeout: 120_000 }, () => {
  it("a single control dead from the start hides none of a provider outage, and is a measurement problem", () => {
    const { report, category } = reportWith({ egress: () => false });
    expect(merchantSide(report)).toBe(0);
    expect(category.excluded).toBe(0);
    expect(category.requests).toBe(TOTAL);
    expect(category.successful).toBe(TOTAL - OUTAGE_REQUESTS);
    expect(category.merchant_side_excluded_minutes).toBe(0);
    expect(category.measurement_problems).toContainEqual(
      expect.objectContaining({ kind: "control_unhealthy", requests: OUTAGE_REQUESTS }),
    );
    expect(report.incidents.filter((i) => i.category === "payment_request")).toHaveLength(1);
  });

  it("a control failing half its probes at random hides under 5 % of the outage and does not split it", () => {
    const flip = coin(42);
    const { report, category } = reportWith({ egress: () => flip() });
    expect(merchantSide(report)).toBeLessThan(OUTAGE_REQUESTS * 0.05);
    expect(category.requests + category.excluded).toBe(TOTAL);
    expect(category.measurement_problems.map((p) => p.kind)).toContain("control_flapping");
    expect(report.incidents.filter((i) => i.category === "payment_request").length).toBeLessThanOrEqual(2);
  });

  it("a control slowly flapping (down 3 minutes, up 3 minutes) hides under 5 % of the outage", () => {
    const { report, category } = reportWith({ egress: (ts) => Math.floor(ts / (3 * MIN)) % 2 === 0 });
    expect(merchantSide(report)).toBeLessThan(OUTAGE_REQUESTS * 0.05);
    expect(category.measurement_problems.map((p) => p.kind)).toContain("control_flapping");
  });

  it("a control failing 1 probe in 9, or answering only 1 in 9, hides under 5 % of the outage", () => {
    let n = 0;
    expect(merchantSide(reportWith({ egress: () => ++n % 9 !== 0 }).report)).toBeLessThan(
      OUTAGE_REQUESTS * 0.05,
    );
    let m = 0;
    expect(merchantSide(reportWith({ egress: () => ++m % 9 === 0 }).report)).toBeLessThan(
      OUTAGE_REQUESTS * 0.05,
    );
    // Failing 1 in 9 at random (deterministic coin flips of 1 in 9).
    const flip = coin(7);
    const rare = () => flip() && flip() && flip();
    expect(merchantSide(reportWith({ egress: () => !rare() }).report)).toBeLessThan(OUTAGE_REQUESTS * 0.05);
  });

  it("a real merchant-side outage (healthy control, then down with the provider) is still excluded", () => {
    const { report, category } = reportWith({
      egress: (ts) => !(ts >= OUTAGE.start - 30_000 && ts < OUTAGE.end),
    });
    expect(merchantSide(report)).toBe(OUTAGE_REQUESTS);
    expect(category.excluded).toBe(OUTAGE_REQUESTS);
    expect(category.availability_pct).toBe(100);
    expect(category.merchant_side_excluded_minutes).toBeCloseTo(6 * 60 - 2 + 10_000 / MIN, 1);
    expect(category.measurement_problems).toEqual([]);
  });

  // Attack 24d finding 1: a control on the provider's own host (here a DNS alias of it, which the
  // configuration check cannot see) fails with the provider and turned its outage merchant_side.
  it("a control that reached the provider's own address (under another spelling) witnesses none of its outage", () => {
    const down = (ts: number) => !(ts >= OUTAGE.start - 30_000 && ts < OUTAGE.end);
    const at = (address: string) => (result: ProbeResult) =>
      result.status === null ? result : { ...result, observed: { address } };
    const onPath = reportWith({ egress: down }, {}, (result) =>
      at(result.category === CONTROL_CATEGORY ? "http://[::ffff:7f00:1]:8443" : "https://127.0.0.1:8443")(
        result,
      ),
    );
    expect(merchantSide(onPath.report)).toBe(0);
    expect(onPath.category.excluded).toBe(0);
    expect(onPath.category.successful).toBe(TOTAL - OUTAGE_REQUESTS);
    // The same control at an address of its own is a witness.
    const neutral = reportWith({ egress: down }, {}, (result) =>
      at(result.category === CONTROL_CATEGORY ? "http://192.0.2.7:443" : "https://127.0.0.1:8443")(result),
    );
    expect(merchantSide(neutral.report)).toBe(OUTAGE_REQUESTS);
  });

  it("a control that died for good two hours before the outage, while the provider kept answering, hides none of it", () => {
    const { report, category } = reportWith({ egress: (ts) => ts < OUTAGE.start - 2 * HOUR });
    expect(merchantSide(report)).toBe(0);
    expect(category.excluded).toBe(0);
    expect(category.successful).toBe(TOTAL - OUTAGE_REQUESTS);
    expect(category.merchant_side_excluded_minutes).toBe(0);
    expect(category.measurement_problems).toContainEqual(
      expect.objectContaining({ kind: "control_unhealthy", requests: OUTAGE_REQUESTS }),
    );
    expect(report.incidents.filter((i) => i.category === "payment_request")).toHaveLength(1);
  });

  it("two controls: one healthy witness is under the default quorum of 2; with controls_quorum 1 it suffices", () => {
    const down = (ts: number) => !(ts >= OUTAGE.start - 30_000 && ts < OUTAGE.end);
    const quorum2 = reportWith({ dead: () => false, egress: down });
    expect(merchantSide(quorum2.report)).toBe(0);
    expect(quorum2.category.measurement_problems.map((p) => p.kind)).toContain("control_unhealthy");
    const quorum1 = reportWith({ dead: () => false, egress: down }, { controlsQuorum: 1 });
    expect(merchantSide(quorum1.report)).toBe(OUTAGE_REQUESTS);
    const both = reportWith({ a: down, b: down });
    expect(merchantSide(both.report)).toBe(OUTAGE_REQUESTS);
  });

  it("every format shows merchant-side excluded minutes per category", () => {
    const { report } = reportWith({ egress: (ts) => !(ts >= OUTAGE.start - 30_000 && ts < OUTAGE.end) });
    const line =
      /Excluded as merchant_side \(minutes inside episodes, per category\): payment_request 358\.17 min/;
    expect(renderReport(report, "md").replaceAll("\\", "")).toMatch(line);
    expect(renderReport(report, "html")).toMatch(line);
    expect(JSON.parse(renderReport(report, "json")).categories[0].merchant_side_excluded_minutes).toBe(
      358.17,
    );
    // The CSV's daily rows: the outage's day holds its minutes, the other days none.
    const [header, ...rows] = (renderReport(report, "csv") as string)
      .trim()
      .split("\r\n")
      .map((l) => l.split(","));
    const column = header!.indexOf("merchant_side_excluded_minutes");
    expect(column).toBeGreaterThan(0);
    const minutes = rows.filter((r) => r[1] === "payment_request").map((r) => [r[0], Number(r[column])]);
    expect(minutes.filter(([, m]) => m !== 0)).toEqual([["2026-11-06", 358.17]]);
  });
});
