import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { FailureReason, ProbeResult, ResultFlag } from "../../src/model/index.js";
import type { SlaSource } from "../../src/model/traffic.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { generateMonth, MONTH, MONTH_END, sloYaml } from "../reports/month-scenario.js";

/**
 * Merchant requests in the evidence bundle (contracts sections 13 and 19): `evidence export` of a
 * month with probe results and merchant requests (several in one millisecond, failures, one its own
 * client aborted), then `verify --bundle` and `python3 recompute.py` in the bundle alone must give
 * the report's figures under every sla.source.
 */

const T0 = Date.parse("2026-03-03T10:00:00Z");

function trafficResults(): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let i = 0; i < 240; i++) {
    const base = {
      // Three requests in each millisecond: only their span ids tell them apart.
      ts: T0 + Math.floor(i / 3) * 3_600_000 * 7,
      probe: i % 2 === 0 ? "traffic:POST /payments/v1/sessions" : "traffic:GET /payments/v1/sessions/{id}",
      category: "payment_request",
      durationMs: 20 + (i % 37),
      errorCode: null,
      correlationId: (i + 1).toString(16).padStart(16, "0"),
      source: "traffic" as const,
    };
    if (i % 40 === 7) out.push({ ...base, status: null, error: "reset", flags: [] });
    else if (i % 40 === 9) out.push({ ...base, status: null, error: "aborted", flags: ["client_side"] });
    else out.push({ ...base, status: i % 25 === 3 ? 503 : 201, error: null, flags: [] });
  }
  return out;
}

function probeResults(): ProbeResult[] {
  return generateMonth().map((r) => ({
    ts: r.ts,
    probe: r.probe,
    category: r.category,
    status: r.status,
    durationMs: r.duration_ms,
    error: r.error as FailureReason | null,
    errorCode: r.error_code,
    correlationId: r.correlation_id,
    flags: (r.flags ?? []) as ResultFlag[],
    bodyError: (r.body_error ?? null) as FailureReason | null,
    detail: r.detail ?? null,
  }));
}

const TRAFFIC = `traffic:
  token: "bundle-traffic-token-0123456789"
  routes:
    - {method: POST, path: /payments/v1/sessions, target: klarna, category: payment_request}
    - {method: GET, path: "/payments/v1/sessions/{id}", target: klarna, category: payment_request}
`;

const dirs = new Map<SlaSource, string>();

beforeAll(() => {
  for (const source of ["probes", "both", "traffic"] as const) {
    const dir = mkdtempSync(join(tmpdir(), `slo-traffic-bundle-${source}-`));
    dirs.set(source, dir);
    writeFileSync(join(dir, "slo.yaml"), `${sloYaml("./data")}${TRAFFIC}sla: {source: ${source}}\n`);
    const store = openEvidenceStore({
      dataDir: join(dir, "data"),
      clock: new FakeClock(MONTH_END + 86_400_000),
      logger: () => {},
    });
    try {
      // Live, as the endpoint records them: in ts order, probes and merchant requests interleaved.
      const all = [...probeResults(), ...trafficResults()].sort((a, b) => a.ts - b.ts);
      for (const result of all) store.record(result);
      store.flush();
    } finally {
      store.close();
    }
    const run = slo(["evidence", "export", "--month", MONTH, "--out", "bundle"], dir);
    if (run.code !== 0) throw new Error(run.stderr);
  }
}, 300_000);

afterAll(() => {
  for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
});

describe("merchant requests in the evidence bundle (contract sections 13 and 19)", {
  timeout: 180_000,
}, () => {
  for (const source of ["probes", "both", "traffic"] as const) {
    it(`sla.source ${source}: the bundle verifies and recompute.py gives the report's figures`, () => {
      const dir = dirs.get(source)!;
      const bundle = join(dir, "bundle");
      const verified = slo(["verify", "--bundle", "bundle"], dir);
      expect(verified.code, verified.stderr).toBe(0);
      const lines = readFileSync(join(bundle, "records.ndjson"), "utf8");
      expect(lines.split('"source":"traffic"').length - 1).toBe(240);
      const report = slo(["report", "--month", MONTH, "--format", "json"], dir);
      expect(report.code, report.stderr).toBe(0);
      const json = JSON.parse(report.stdout) as { categories: Record<string, unknown>[] };
      const run = spawnSync("python3", ["recompute.py"], { cwd: bundle, encoding: "utf8", timeout: 120_000 });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      const figures = JSON.parse(run.stdout) as { categories: Record<string, unknown>[] };
      for (const row of figures.categories) {
        const stated = json.categories.find((c) => c.category === row.category)!;
        for (const [field, value] of Object.entries(row))
          expect([row.category, field, value]).toEqual([row.category, field, stated[field]]);
      }
      const payments = json.categories.find((c) => c.category === "payment_request")!;
      expect(payments.traffic).toMatchObject({ requests: 234 });
      const probesOnly = figures.categories.find((c) => c.category === "payment_request")!;
      if (source === "traffic") expect(Number(probesOnly.requests) + Number(probesOnly.excluded)).toBe(240);
    });
  }
});
