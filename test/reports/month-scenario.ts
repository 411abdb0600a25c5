/**
 * A generated month of probe results with known outages, maintenance windows judged by every rule
 * (late notice, the occasion cap, the hours cap) and a declared exclusion, written as the import
 * format of contract section 3, with an hour of edge-block 403s and some bodies that broke off
 * after their headers. The expected figures are derived here from the rules by hand,
 * never by calling src/slo.
 */

export const MONTH = "2026-03";
export const MONTH_START = Date.UTC(2026, 2, 1);
export const MONTH_END = Date.UTC(2026, 3, 1);
export const STEP_MS = 5 * 60_000;
const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);

export const CATEGORIES = [
  { id: "payment_request", title: "Payment Request", cls: "transaction_critical", objective: 1500 },
  { id: "settlements", title: "Settlements", cls: "transaction_non_critical", objective: 6000 },
  { id: "disputes", title: "Disputes & Claims", cls: "transaction_non_critical", objective: 4000 },
] as const;
export type CategoryId = (typeof CATEGORIES)[number]["id"];

export const CLASSES = [
  { id: "transaction_critical", title: "Transactions Critical Services", target: 99 },
  { id: "transaction_non_critical", title: "Transactions Non-critical Services", target: 99 },
] as const;

/** Policy of this scenario: 3 occasions and 5 hours a year, so every cap is reached in March. */
export const WINDOWS = [
  // Qualifies (occasion 1, 2 h): consumed before the reported month.
  {
    id: "mw-jan",
    start: "2026-01-10T01:00:00Z",
    end: "2026-01-10T03:00:00Z",
    announced: "2025-12-20T09:00:00Z",
    categories: ["all"],
  },
  // Announced 4 days ahead: does not qualify at all.
  {
    id: "mw-late",
    start: "2026-03-05T01:00:00Z",
    end: "2026-03-05T02:00:00Z",
    announced: "2026-03-01T09:00:00Z",
    categories: ["all"],
  },
  // Qualifies in full (occasion 2, hours 2 -> 4).
  {
    id: "mw-a",
    start: "2026-03-08T00:00:00Z",
    end: "2026-03-08T02:00:00Z",
    announced: "2026-02-01T09:00:00Z",
    categories: ["all"],
  },
  // Occasion 3; only 1 h is left under the 5 h cap: 00:00-01:00 is excluded, 01:00-03:00 counts.
  {
    id: "mw-b",
    start: "2026-03-15T00:00:00Z",
    end: "2026-03-15T03:00:00Z",
    announced: "2026-02-01T09:00:00Z",
    categories: ["payment_request"],
  },
  // Occasion 4 of 3: does not qualify.
  {
    id: "mw-c",
    start: "2026-03-22T00:00:00Z",
    end: "2026-03-22T01:00:00Z",
    announced: "2026-02-01T09:00:00Z",
    categories: ["all"],
  },
] as const;

export const EXCLUSION = {
  id: "fm-1",
  start: "2026-03-20T10:00:00Z",
  end: "2026-03-20T11:00:00Z",
  reason: 'acquirer "Bank, Ltd" outage',
  categories: ["settlements"],
} as const;

/** The excluded intervals as the rules make them, worked out by hand from the list above. */
export const EXCLUDED: readonly { start: number; end: number; categories: readonly string[] }[] = [
  { start: at("2026-03-08T00:00:00Z"), end: at("2026-03-08T02:00:00Z"), categories: ["all"] },
  { start: at("2026-03-15T00:00:00Z"), end: at("2026-03-15T01:00:00Z"), categories: ["payment_request"] },
  { start: at(EXCLUSION.start), end: at(EXCLUSION.end), categories: ["settlements"] },
];

export const EXPECTED_MAINTENANCE = [
  { id: "mw-late", qualified: false, qualified_hours: 0, reason: "late_notice" },
  { id: "mw-a", qualified: true, qualified_hours: 2, reason: null },
  { id: "mw-b", qualified: true, qualified_hours: 1, reason: "hours_cap" },
  { id: "mw-c", qualified: false, qualified_hours: 0, reason: "occasion_cap" },
];

export const OUTAGE = {
  category: "payment_request",
  start: at("2026-03-12T10:00:00Z"),
  end: at("2026-03-12T20:00:00Z"),
};
/** A CDN/WAF in front of the API refused the probes: 403s without Klarna's error body (served, flagged). */
export const EDGE_BLOCK = {
  category: "payment_request",
  start: at("2026-03-03T14:00:00Z"),
  end: at("2026-03-03T15:00:00Z"),
};
/** The agent was not running: no results at all. */
export const AGENT_DOWN = { start: at("2026-03-25T06:00:00Z"), end: at("2026-03-25T12:00:00Z") };

export interface ScenarioResult {
  ts: number;
  probe: string;
  category: CategoryId;
  status: number | null;
  duration_ms: number;
  error: string | null;
  error_code: string | null;
  correlation_id: string | null;
  /** The probe's classification detail, present only where a probe would set it. */
  flags?: string[];
  body_error?: string;
  detail?: string;
}

/** A small deterministic generator, so that the month is the same on every run. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function inWindow(
  ts: number,
  w: { start: string; end: string; categories: readonly string[] },
  category: string,
) {
  return (
    ts >= at(w.start) && ts < at(w.end) && (w.categories.includes("all") || w.categories.includes(category))
  );
}

function resultAt(ts: number, category: CategoryId, index: number, random: () => number): ScenarioResult {
  const base = {
    ts,
    probe: `${category.replaceAll("_", "-")}-read`,
    category,
    error: null,
    error_code: null,
    correlation_id: null,
  };
  const latency = Math.round((40 + 400 * random()) * 1000) / 1000;
  const corr = `${category.slice(0, 3)}-${ts.toString(36)}`;
  if (WINDOWS.some((w) => w.id !== "mw-jan" && inWindow(ts, w, category))) {
    return {
      ...base,
      status: 503,
      duration_ms: 12.5,
      error_code: "TEMPORARILY_UNAVAILABLE",
      correlation_id: corr,
    };
  }
  if (category === OUTAGE.category && ts >= OUTAGE.start && ts < OUTAGE.end) {
    const failed = {
      ...base,
      status: 503,
      duration_ms: latency,
      error_code: "INTERNAL_ERROR",
      correlation_id: corr,
    };
    // Some error pages broke off mid-body: the 503 stands, the body failure is kept beside it.
    return index % 6 === 0 ? { ...failed, body_error: "timeout", detail: "body: timed out" } : failed;
  }
  if (category === EDGE_BLOCK.category && ts >= EDGE_BLOCK.start && ts < EDGE_BLOCK.end) {
    return { ...base, status: 403, duration_ms: latency, flags: ["edge_block"] };
  }
  if (category === "settlements" && inWindow(ts, EXCLUSION, category)) {
    return { ...base, status: null, duration_ms: 10_000, error: "timeout" };
  }
  if (category === "settlements" && index % 500 === 7) {
    return { ...base, status: null, duration_ms: 35.25, error: "reset" };
  }
  if (category === "disputes" && index % 40 === 3) {
    return { ...base, status: 200, duration_ms: 4500 + Math.round(random() * 1000) };
  }
  if (index % 97 === 5)
    return { ...base, status: 404, duration_ms: latency, error_code: "NOT_FOUND", correlation_id: corr };
  if (category === "disputes" && index % 450 === 9) {
    return { ...base, status: 200, duration_ms: latency, body_error: "reset", detail: "body: ECONNRESET" };
  }
  return { ...base, status: 200, duration_ms: latency };
}

/** Every result of the month, in ts order. */
export function generateMonth(): ScenarioResult[] {
  const random = lcg(20260301);
  const results: ScenarioResult[] = [];
  for (let slot = 0, t = MONTH_START; t < MONTH_END; slot++, t += STEP_MS) {
    CATEGORIES.forEach((c, i) => {
      const ts = t + i * 100_000 + 123;
      if (ts >= AGENT_DOWN.start && ts < AGENT_DOWN.end) return;
      results.push(resultAt(ts, c.id, slot, random));
    });
  }
  return results;
}

export function toNdjson(results: readonly ScenarioResult[]): string {
  return results.map((r) => JSON.stringify({ ...r, ts: new Date(r.ts).toISOString() })).join("\n") + "\n";
}

export function sloYaml(dataDir: string): string {
  const windows = WINDOWS.map(
    (w) =>
      `    - {id: ${w.id}, start: ${w.start}, end: ${w.end}, announced_at: ${w.announced}, categories: [${w.categories.join(", ")}]}`,
  );
  return `version: 1
agent:
  id: probe-eu-1
  region: eu
  listen: 127.0.0.1:0
  data_dir: ${JSON.stringify(dataDir)}
  retention_days: 36500
service_classes:
${CLASSES.map((c) => `  ${c.id}: {title: ${c.title}, availability_target_pct: ${c.target.toFixed(1)}}`).join("\n")}
categories:
${CATEGORIES.map((c) => `  ${c.id}: {title: ${JSON.stringify(c.title)}, service_class: ${c.cls}, latency_p99_ms: ${c.objective}}`).join("\n")}
maintenance:
  policy: {min_notice_days: 7, max_occasions_per_year: 3, max_hours_per_year: 5}
  windows:
${windows.join("\n")}
exclusions:
  - {id: ${EXCLUSION.id}, start: ${EXCLUSION.start}, end: ${EXCLUSION.end}, reason: ${JSON.stringify(EXCLUSION.reason)}, categories: [settlements]}
targets:
  klarna: {base_url: "http://127.0.0.1:9", environment: simulator, auth: {type: none}}
probes:
${CATEGORIES.map((c) => `  - {id: ${c.id.replaceAll("_", "-")}-read, category: ${c.id}, target: klarna, every: 5m, method: GET, path: /${c.id}, timeout_ms: 10000}`).join("\n")}
`;
}

export const HOURS_USED = 5;
export const OCCASIONS_USED = 3;
export { HOUR };
