import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { trafficRoutesOf } from "../../src/config/traffic-wire.js";
import type { ProbeResult } from "../../src/model/result.js";
import { Secret } from "../../src/model/secret.js";
import type { SlaSource } from "../../src/model/traffic.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { buildMonthlyReport, renderReport } from "../../src/reports/index.js";
import { fixtureConfig } from "../support/slo-config.js";

const T0 = Date.UTC(2026, 9, 1);
const NOW = Date.UTC(2026, 10, 2);
const root = mkdtempSync(join(tmpdir(), "slo-traffic-report-"));
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

const request = (i: number, status: number | null, flags: ProbeResult["flags"] = []): ProbeResult => ({
  ts: T0 + 1_000 + i * 7,
  probe: "traffic:POST /payments/v1/sessions",
  category: "payment_request",
  status,
  durationMs: 10 + i,
  error: status === null ? "reset" : null,
  errorCode: null,
  correlationId: i.toString(16).padStart(16, "0"),
  flags,
  source: "traffic",
});

// 10 probe results, one failed: 90 %. 200 merchant requests: 180 answered 201, 10 answered 503,
// 5 reset, 5 aborted by the merchant's client (client_side): 180 / 195.
const store = openEvidenceStore({ dataDir: join(root, "data"), clock: new FakeClock(NOW), logger: () => {} });
for (let i = 0; i < 10; i++) store.record(probe(i, i === 3 ? null : 200));
for (let i = 0; i < 200; i++) {
  if (i < 180) store.record(request(i, 201));
  else if (i < 190) store.record(request(i, 503));
  else if (i < 195) store.record(request(i, null));
  else store.record({ ...request(i, null), error: "aborted", flags: ["client_side"] });
}
store.flush();

function reportWith(source: SlaSource | undefined, traffic = true) {
  const base = fixtureConfig();
  const config = {
    ...base,
    sla: { ...base.sla, ...(source === undefined ? {} : { figuresFrom: source }) },
    ...(traffic
      ? {
          traffic: {
            token: new Secret("x".repeat(16)),
            maxBodyBytes: 1 << 20,
            routes: trafficRoutesOf([
              {
                method: "POST",
                path: "/payments/v1/sessions",
                target: "klarna",
                category: "payment_request",
              },
            ]),
          },
        }
      : {}),
  };
  return buildMonthlyReport({ config, store, month: "2026-10", now: NOW });
}

function rowWith(source: SlaSource | undefined, traffic = true) {
  return reportWith(source, traffic).categories.find((c) => c.category === "payment_request")!;
}

describe("the report's traffic figures and sla.source (contract section 19)", () => {
  it("shows the merchant requests beside the probe figures, which the probes decide by default", () => {
    const row = rowWith(undefined);
    expect(row.traffic).toEqual({
      requests: 195,
      successful: 180,
      availability_pct: (180 * 100) / 195,
      latency_p99_ms: 10 + 188,
    });
    expect(row.requests).toBe(10);
    expect(row.successful).toBe(9);
  });

  it("sla.source traffic: the merchant requests decide, client_side ones excluded as merchant_side", () => {
    const row = rowWith("traffic");
    expect(row.requests).toBe(195);
    expect(row.successful).toBe(180);
  });

  it("sla.source both: probes and merchant requests together", () => {
    const row = rowWith("both");
    expect(row.requests).toBe(205);
    expect(row.successful).toBe(189);
  });

  it("a configuration without traffic keeps the report's shape", () => {
    expect(rowWith(undefined, false)).not.toHaveProperty("traffic");
    expect(renderReport(reportWith(undefined, false), "md")).not.toContain("Merchant requests");
    expect(renderReport(reportWith(undefined, false), "html")).not.toContain("Merchant requests");
    expect(renderReport(reportWith(undefined, false), "csv")).not.toContain("traffic_");
    expect(reportWith(undefined, false).daily[0]).not.toHaveProperty("traffic");
  });

  it("the CSV report shows each day's merchant requests per category, which add up to the month's", () => {
    const lines = renderReport(reportWith(undefined), "csv").trimEnd().split("\r\n");
    const head = lines[0]!.split(",");
    expect(head.slice(-4)).toEqual([
      "traffic_requests",
      "traffic_successful",
      "traffic_availability_pct",
      "traffic_latency_p99_ms",
    ]);
    const rows = lines.slice(1).map((l) => l.split(","));
    const col = (name: string) => head.indexOf(name);
    const first = rows.find(
      (r) => r[col("date")] === "2026-10-01" && r[col("category")] === "payment_request",
    )!;
    expect(first.slice(-4)).toEqual(["195", "180", String((180 * 100) / 195), "198"]);
    const second = rows.find(
      (r) => r[col("date")] === "2026-10-02" && r[col("category")] === "payment_request",
    )!;
    expect(second.slice(-4)).toEqual(["0", "0", "", ""]);
  });

  it("the HTML report shows the merchant requests per category", () => {
    const html = renderReport(reportWith(undefined), "html");
    expect(html).toContain('<section id="traffic"><h2>Merchant requests</h2>');
    expect(html).toMatch(
      /payment_<wbr>request<\/span><\/td><td class="num">195<\/td><td class="num">180<\/td>/,
    );
  });

  it("the Markdown report shows the merchant requests per category", () => {
    const md = renderReport(reportWith(undefined), "md");
    expect(md).toContain("## Merchant requests");
    expect(md).toMatch(/\| Payment Request \(`payment_request`\) \| 195 \| 180 \| 92\.308% \| 198\.0 ms \|/);
  });
});
