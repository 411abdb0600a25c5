import type { ClassificationCounts } from "../../src/reports/classification.js";
import type { MonthlyReport } from "../../src/reports/model.js";

/** Flag and body-error counts: zeros except the ones given. */
export function classified(
  flags: Partial<ClassificationCounts["result_flags"]> = {},
  bodyErrors: Partial<ClassificationCounts["body_errors"]> = {},
): ClassificationCounts {
  return {
    result_flags: { edge_block: 0, redirect_limit: 0, body_capped: 0, agent_error: 0, ...flags },
    body_errors: {
      timeout: 0,
      connect: 0,
      dns: 0,
      tls: 0,
      reset: 0,
      protocol: 0,
      aborted: 0,
      ...bodyErrors,
    },
  };
}

/**
 * A hand-written report (not built from data) for the renderer tests: one category that missed,
 * one that met, one with no traffic, and strings that try to break out of every format.
 */
export function sampleReport(): MonthlyReport {
  return {
    month: "2026-02",
    generated_at: "2026-03-01T08:00:00.000Z",
    period: { start: "2026-02-01T00:00:00.000Z", end: "2026-03-01T00:00:00.000Z" },
    categories: [
      {
        category: "payment_request",
        title: "Payment | Request <script>alert(1)</script>",
        service_class: "transaction_critical",
        requests: 8064,
        successful: 7900,
        excluded: 120,
        availability_pct: (7900 / 8064) * 100,
        availability_target_pct: 99,
        availability_met: false,
        latency_p99_ms: 412.3456,
        latency_objective_ms: 1500,
        latency_met: true,
        error_budget_requests: 80.64,
        error_budget_used_ratio: 164 / 80.64,
        measured_availability_pct: (7990 / 8224) * 100,
        measurement_problems: [
          {
            kind: "auth_failed",
            requests: 3,
            first: "2026-02-03T10:00:00.000Z",
            last: "2026-02-03T10:01:00.000Z",
          },
        ],
        ...classified({ edge_block: 12 }, { reset: 1, timeout: 3 }),
      },
      {
        category: "settlements",
        title: "Settlements",
        service_class: "additional",
        requests: 8064,
        successful: 8064,
        excluded: 0,
        availability_pct: 100,
        availability_target_pct: 99,
        availability_met: true,
        latency_p99_ms: 99.96,
        latency_objective_ms: 2000,
        latency_met: true,
        error_budget_requests: 80.64,
        error_budget_used_ratio: 0,
        measured_availability_pct: 100,
        measurement_problems: [],
        ...classified(),
      },
      {
        category: "disputes",
        title: "Disputes",
        service_class: "additional",
        requests: 0,
        successful: 0,
        excluded: 0,
        availability_pct: null,
        availability_target_pct: 99,
        availability_met: null,
        latency_p99_ms: null,
        latency_objective_ms: 2000,
        latency_met: null,
        error_budget_requests: 0,
        error_budget_used_ratio: null,
        measured_availability_pct: null,
        measurement_problems: [],
        ...classified(),
      },
    ],
    service_classes: [
      {
        service_class: "transaction_critical",
        title: "Transactions Critical Services",
        requests: 8064,
        successful: 7900,
        excluded: 120,
        availability_pct: (7900 / 8064) * 100,
        availability_target_pct: 99,
        availability_met: false,
      },
      {
        service_class: "additional",
        title: "Additional Services",
        requests: 8064,
        successful: 8064,
        excluded: 0,
        availability_pct: 100,
        availability_target_pct: 99,
        availability_met: true,
      },
    ],
    maintenance: {
      windows: [
        {
          id: "mw-1",
          start: "2026-02-10T01:00:00.000Z",
          end: "2026-02-10T03:00:00.000Z",
          announced_at: "2026-01-30T12:00:00.000Z",
          categories: ["all"],
          qualified: true,
          qualified_hours: 2,
          reason: null,
          excluded_requests: 24,
        },
        {
          id: "mw-late",
          start: "2026-02-20T01:00:00.000Z",
          end: "2026-02-20T02:00:00.000Z",
          announced_at: "2026-02-18T12:00:00.000Z",
          categories: ["payment_request"],
          qualified: false,
          qualified_hours: 0,
          reason: "late_notice",
          excluded_requests: 0,
        },
      ],
      year_occasions_used: 1,
      year_hours_used: 2,
      policy: { min_notice_days: 7, max_occasions_per_year: 5, max_hours_per_year: 15 },
    },
    exclusions: [
      {
        id: "fm-1",
        start: "2026-02-14T10:00:00.000Z",
        end: "2026-02-14T11:00:00.000Z",
        reason: 'acquirer "Bank, Ltd" outage\nsecond line | <b>bold</b>',
        categories: ["settlements"],
        excluded_requests: 12,
      },
    ],
    coverage: { expected_probes: 24192, recorded_probes: 16128, ratio: 16128 / 24192, agent_runs: 2 },
    evidence: { records: 16128, sha256: "ab".repeat(32) },
    summary: {
      objectives_met: false,
      missed: ["payment_request:availability", "transaction_critical:availability"],
    },
    automatic_exclusions: [
      {
        reason: "merchant_side",
        start: "2026-02-20T09:00:00.000Z",
        end: "2026-02-20T09:04:30.000Z",
        categories: ["payment_request"],
        requests: 100,
        evidence: {
          controls: [
            {
              control: "egress",
              failed_results: 27,
              first: "2026-02-20T08:59:55.000Z",
              last: "2026-02-20T09:04:25.000Z",
              errors: ["dns"],
            },
          ],
        },
      },
      {
        reason: "agent_error",
        start: "2026-02-21T09:00:00.000Z",
        end: "2026-02-21T09:00:40.000Z",
        categories: ["payment_request"],
        requests: 10,
        evidence: { failures: [{ detail: "connect EMFILE 127.0.0.1:443 <x>", requests: 10 }] },
      },
    ],
    incidents: [
      {
        category: "payment_request",
        start: "2026-02-03T10:00:00.000Z",
        end: "2026-02-03T10:45:00.000Z",
        duration_ms: 45 * 60_000,
        recovered: true,
        requests: 9,
        failed_requests: 9,
        failures: [
          { code: "503", count: 7 },
          { code: "timeout", count: 2 },
        ],
        error_codes: [{ code: "INTERNAL_ERROR", count: 7 }],
        correlation_ids: Array.from({ length: 25 }, (_, i) => `corr-${String(i).padStart(2, "0")}`),
        ...classified({}, { timeout: 2 }),
      },
      {
        category: "settlements",
        start: "2026-02-05T00:00:00.000Z",
        end: "2026-02-05T00:05:00.000Z",
        duration_ms: 300_000,
        recovered: true,
        requests: 1,
        failed_requests: 1,
        failures: [{ code: "reset", count: 1 }],
        error_codes: [],
        correlation_ids: [],
        ...classified(),
      },
    ],
    unmonitored: [{ start: "2026-02-21T00:00:00.000Z", end: "2026-02-21T06:30:00.000Z" }],
    data_gaps: [{ start: "2026-02-21T00:00:00.000Z", end: "2026-02-21T06:30:00.000Z" }],
    daily: Array.from({ length: 28 }, (_, i) => {
      const date = `2026-02-${String(i + 1).padStart(2, "0")}`;
      const bad = i === 2;
      return [
        {
          date,
          category: "payment_request",
          service_class: "transaction_critical",
          requests: 288,
          served: bad ? 124 : 288,
          excluded: 0,
          availability_pct: bad ? (124 / 288) * 100 : 100,
          latency_p99_ms: bad ? 10_000 : 120 + i,
        },
        {
          date,
          category: "settlements",
          service_class: "additional",
          requests: 288,
          served: 288,
          excluded: 0,
          availability_pct: 100,
          latency_p99_ms: 90 + i / 10,
        },
        {
          date,
          category: "disputes",
          service_class: "additional",
          requests: 0,
          served: 0,
          excluded: 0,
          availability_pct: null,
          latency_p99_ms: null,
        },
      ];
    }).flat(),
  };
}
