import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { trafficRoutesOf } from "../../src/config/traffic-wire.js";
import type { ProbeResult } from "../../src/model/result.js";
import { Secret } from "../../src/model/secret.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { buildMonthlyReport, renderReport } from "../../src/reports/index.js";
import { fixtureConfig } from "../support/slo-config.js";

const T0 = Date.UTC(2026, 9, 1);
const NOW = Date.UTC(2026, 10, 2);
const root = mkdtempSync(join(tmpdir(), "slo-traffic-disagree-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const probe = (i: number, status: number | null): ProbeResult => ({
  ts: T0 + i * 30_000,
  probe: "payment-request-read",
  category: "payment_request",
  status,
  durationMs: 100 + i,
  error: status === null ? "timeout" : null,
  errorCode: null,
  correlationId: null,
});

const request = (i: number, status: number, dayOffset = 0): ProbeResult => ({
  ts: T0 + dayOffset * 86_400_000 + 1_000 + i * 7,
  probe: "traffic:POST /payments/v1/sessions",
  category: "payment_request",
  status,
  durationMs: 10 + i,
  error: null,
  errorCode: null,
  correlationId: (dayOffset * 1000 + i).toString(16).padStart(16, "0"),
  flags: [],
  source: "traffic",
});

/** A store with 20 healthy probe results on day 1 and the given merchant requests. */
function reportOf(name: string, requests: readonly ProbeResult[]) {
  const store = openEvidenceStore({ dataDir: join(root, name), clock: new FakeClock(NOW), logger: () => {} });
  for (let i = 0; i < 20; i++) store.record(probe(i, 200));
  for (const r of requests) store.record(r);
  store.flush();
  const base = fixtureConfig();
  const config = {
    ...base,
    traffic: {
      token: new Secret("x".repeat(16)),
      maxBodyBytes: 1 << 20,
      routes: trafficRoutesOf([
        { method: "POST", path: "/payments/v1/sessions", target: "klarna", category: "payment_request" },
      ]),
    },
  };
  const report = buildMonthlyReport({ config, store, month: "2026-10", now: NOW });
  store.close();
  return report;
}

describe("merchant requests and probes that disagree (issue #29 item 6)", () => {
  it("warns in every format when traffic availability is far below healthy probes over the same days", () => {
    // 50 % of fabricated (or real) merchant requests served on day 1, where every probe was.
    const report = reportOf(
      "low",
      Array.from({ length: 100 }, (_, i) => request(i, i < 50 ? 201 : 503)),
    );
    const warning = (report.warnings ?? []).find((w) => w.includes("disagree"));
    expect(warning).toBe(
      "payment_request: the merchant's requests and the probes disagree: 50.000% of 100 merchant request(s) were served against 100.000% of 20 probe request(s) over the same days (more than 5 points apart); check the traffic sender (anyone holding the traffic token can send spans) and what the probes exercise before relying on either figure.",
    );
    expect(renderReport(report, "md")).toContain("the merchant's requests and the probes disagree");
    expect(renderReport(report, "html")).toContain("the merchant&#39;s requests and the probes disagree");
  });

  it("compares the same days only, and keeps quiet within 5 points", () => {
    // Day 1: 96 % served against 100 % of probes. Day 3 (no probes): all failed, not compared.
    const report = reportOf("close", [
      ...Array.from({ length: 100 }, (_, i) => request(i, i < 96 ? 201 : 503)),
      ...Array.from({ length: 100 }, (_, i) => request(i, 503, 2)),
    ]);
    expect((report.warnings ?? []).filter((w) => w.includes("disagree"))).toEqual([]);
  });
});
