import { describe, expect, it } from "vitest";
import { AGENT_ALERT, alertConditions } from "../../src/alerts/conditions.js";
import { DIAGNOSTIC_CATEGORY, type ProbeResult } from "../../src/model/result.js";
import { fixtureConfig } from "../support/slo-config.js";

const T0 = Date.UTC(2026, 11, 6);
const diagnostic = {
  category: DIAGNOSTIC_CATEGORY,
  target: null,
  writes: false,
  schedule: { kind: "every", intervalMs: 60_000 },
  timeoutMs: 1000,
  source: { file: "p.yaml", line: 1 },
} as const;
const config = fixtureConfig({
  probes: [
    ...fixtureConfig().probes,
    { ...diagnostic, kind: "tls", id: "api-cert", host: "api.example", port: 443, minDays: 14, caFile: null },
    { ...diagnostic, kind: "dns", id: "api-dns", name: "api.example", recordType: "A", server: null },
  ],
});
const snapshot = { at: T0, categories: [] } as unknown as Parameters<typeof alertConditions>[1]["snapshot"];

function result(
  probe: string,
  error: ProbeResult["error"],
  observed: ProbeResult["observed"],
  detail: string,
): ProbeResult {
  const base = {
    ts: T0,
    category: DIAGNOSTIC_CATEGORY,
    status: null,
    durationMs: 5,
    errorCode: null,
    correlationId: null,
  };
  return { ...base, probe, error, observed, detail };
}

describe("alerts of diagnostic probes (contract section 18)", () => {
  it("a certificate under min_days raises SLOTlsCertificateExpiring for its probe; a healthy one nothing", () => {
    const expiring = result(
      "api-cert",
      "tls",
      { kind: "tls", reason: "cert_expiring" },
      "certificate expires in 5.0 days (min_days 14)",
    );
    const found = alertConditions(config, { snapshot, diagnostics: [expiring] });
    expect(found.map((c) => c.labels)).toEqual([
      {
        alertname: AGENT_ALERT.tlsCertificate,
        severity: "ticket",
        category: DIAGNOSTIC_CATEGORY,
        service_class: "diagnostic",
        region: "eu",
        probe: "api-cert",
      },
    ]);
    expect(found[0]!.annotations.summary).toBe(
      "api-cert (region eu): certificate expires in 5.0 days (min_days 14)",
    );
    const healthy = result("api-cert", null, { kind: "tls" }, "certificate valid, expires in 80.0 days");
    expect(alertConditions(config, { snapshot, diagnostics: [healthy] })).toEqual([]);
  });

  it("another diagnostic failure is SLODiagnosticFailing; a removed probe's or the agent's own error is none", () => {
    const nx = result(
      "api-dns",
      "dns",
      { kind: "dns", rcode: "NXDOMAIN", reason: "nxdomain" },
      "api.example A: NXDOMAIN",
    );
    const gone = result("old-cert", "tls", { kind: "tls", reason: "cert_expiring" }, "x");
    const agent = { ...result("api-cert", "connect", null, "EMFILE"), flags: ["agent_error" as const] };
    const found = alertConditions(config, { snapshot, diagnostics: [nx, gone, agent] });
    expect(found.map((c) => [c.labels.alertname, c.labels.probe])).toEqual([
      [AGENT_ALERT.diagnostic, "api-dns"],
    ]);
  });
});
