import { z } from "zod";
import { FAILURE_REASONS } from "../model/result.js";
import { INVISIBLE_CHARACTERS } from "../model/text.js";
import { monthInterval } from "../model/time.js";
import {
  type AgentMonthSummary,
  type LatencyTail,
  SUMMARY_KIND,
  TAIL_KIND,
  type TailQuestion,
} from "./agent-summary.js";
import { summaryInconsistency, tailProblem } from "./agent-summary-consistency.js";
import { COUNTED_FLAGS } from "./classification.js";

/**
 * What another agent says is checked before a figure is made of it: a signed agent can still be
 * buggy or compromised, and a count that is negative, fractional, a string or larger than its
 * total must stop the merge rather than become a percentage. Fields the merge adds or renders
 * are typed strictly; the rest of the report passes as data that the renderers escape.
 */
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const nullablePct = z.number().min(0).max(100).nullable();
const nullableMs = z.number().finite().min(0).nullable();
/** agent.id and region: names shown in every format; the config's own ids are plain. */
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "letters, digits and . _ : - only");
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD");

/** Merchant-side minutes; absent in summaries of agents before them: read as 0. */
const minutes = z
  .number()
  .finite()
  .min(0)
  .max(31 * 1440)
  .optional();

const served = z
  .object({ requests: count, served: count })
  .refine((s) => s.served <= s.requests, "served exceeds requests");

/** A category's or a day's merchant requests (contract section 19): the merge adds them. */
const traffic = z
  .strictObject({
    requests: count,
    successful: count,
    availability_pct: nullablePct,
    latency_p99_ms: nullableMs,
  })
  .refine((t) => t.successful <= t.requests, "successful exceeds requests")
  .refine(
    (t) => (t.requests === 0) === (t.availability_pct === null),
    "availability_pct does not match requests",
  )
  .optional();

const countedCodes = z.array(z.strictObject({ code: z.string().max(200), count }));
const countsOf = (keys: readonly string[]) => z.strictObject(Object.fromEntries(keys.map((k) => [k, count])));

const categoryRow = z
  .looseObject({
    category: name,
    service_class: name,
    requests: count,
    successful: count,
    excluded: count,
    availability_pct: nullablePct,
    availability_target_pct: z.number().min(0).max(100),
    latency_p99_ms: nullableMs,
    latency_objective_ms: z.number().finite().min(0),
    latency_source: z.string(),
    measured_availability_pct: nullablePct,
    merchant_side_excluded_minutes: minutes,
    result_flags: countsOf(COUNTED_FLAGS).optional(),
    body_errors: countsOf(FAILURE_REASONS).optional(),
    measurement_problems: z.array(z.looseObject({ kind: z.string(), requests: count })).optional(),
    traffic,
  })
  .refine((r) => r.successful <= r.requests, "successful exceeds requests");

const dailyRow = z
  .looseObject({
    date: day,
    category: name,
    service_class: name,
    requests: count,
    served: count,
    excluded: count,
    availability_pct: nullablePct,
    latency_p99_ms: nullableMs,
    measured_availability_pct: nullablePct,
    merchant_side_excluded_minutes: minutes,
    traffic,
  })
  .refine((r) => r.served <= r.requests, "served exceeds requests");

const serviceClassRow = z.looseObject({
  service_class: name,
  title: z.string(),
  availability_target_pct: z.number().min(0).max(100),
});

const instant = z.iso.datetime({ offset: true });

/** An interval's end is not before its start: a negative duration would be drawn and summed as is. */
const inOrder = (i: { start: string; end: string }) => Date.parse(i.end) >= Date.parse(i.start);
const ORDER = "it ends before it starts";

/** The lists the merge copies into the report: each renderer reads every field, so all must be there. */
const incident = z
  .looseObject({
    category: name,
    start: instant,
    end: instant,
    duration_ms: count,
    recovered: z.boolean(),
    requests: count,
    failed_requests: count,
    failures: countedCodes,
    error_codes: countedCodes,
    correlation_ids: z.array(z.string().max(200)),
    result_flags: countsOf(COUNTED_FLAGS),
    body_errors: countsOf(FAILURE_REASONS),
  })
  .refine(inOrder, ORDER);
const latencyIncident = z
  .looseObject({
    category: name,
    start: instant,
    end: instant,
    p99_ms: z.number().finite().min(0),
    requests: count,
  })
  .refine(inOrder, ORDER);
const interval = z.looseObject({ start: instant, end: instant }).refine(inOrder, ORDER);
const automaticExclusion = z
  .looseObject({
    reason: name,
    start: instant,
    end: instant,
    categories: z.array(name),
    requests: count,
    evidence: z.looseObject({}),
  })
  .refine(inOrder, ORDER);

const evidence = z.looseObject({
  records: count,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  verified: z.boolean().optional(),
  problem: z.string().optional(),
});

const summarySchema = z.looseObject({
  kind: z.literal(SUMMARY_KIND),
  month: z.string(),
  agent: name,
  region: name,
  agent_version: z.string().max(100),
  sla_config_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  credits: z.array(z.looseObject({})),
  report: z.looseObject({
    month: z.string(),
    categories: z.array(categoryRow).min(1),
    service_classes: z.array(serviceClassRow),
    daily: z.array(dailyRow),
    evidence,
    coverage: z.looseObject({
      expected_probes: count,
      recorded_probes: count,
      ratio: z.number().finite().min(0).nullable(),
      agent_runs: count,
    }),
    incidents: z.array(incident).optional(),
    latency_incidents: z.array(latencyIncident).optional(),
    unmonitored: z.array(interval).optional(),
    data_gaps: z.array(interval).optional(),
    automatic_exclusions: z.array(automaticExclusion).optional(),
  }),
  latency_counts: z.record(name, z.object({ month: count, days: z.array(count) })),
  measured: z.record(name, z.object({ month: served, days: z.array(served) })),
});

const tailSchema = z.looseObject({
  kind: z.literal(TAIL_KIND),
  month: z.string(),
  agent: name,
  category: name,
  top: count,
  days: z.array(count),
  month_ms: z.array(z.number().finite().min(0)),
  days_ms: z.array(z.array(z.number().finite().min(0))),
});

/**
 * C0 controls but tab and line feed, DEL, C1 controls, and the invisible characters
 * (INVISIBLE_CHARACTERS: bidirectional controls, zero-width space, BOM, U+2028/U+2029, tags): an
 * ESC sequence in a title would drive the terminal the Markdown is printed on, a right-to-left
 * override makes "99.9" read as "9.99" in HTML, a zero-width space or tag characters make two
 * names look alike or hide text. No honest summary holds one, so it is refused rather than cleaned.
 */
const CONTROL = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${INVISIBLE_CHARACTERS}]`, "u");

/** The path of the first string (key or value) in `value` that holds a control character, or null. */
function controlAt(value: unknown, path: string): string | null {
  if (typeof value === "string") return CONTROL.test(value) ? path : null;
  if (value === null || typeof value !== "object") return null;
  for (const [key, item] of Object.entries(value)) {
    const at = path === "" ? key : `${path}.${key}`;
    if (CONTROL.test(key)) return at;
    const found = controlAt(item, at);
    if (found !== null) return found;
  }
  return null;
}

/** The first problem zod found, as "field.path: message". */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join(".");
  return `${path === "" ? "answer" : path}: ${issue.message}`;
}

/**
 * The summary, checked field by field and against the month asked: every date in the month,
 * every category of the counts known to the report, the day series as long as the month.
 */
export function checkSummary(body: unknown, month: string): AgentMonthSummary | string {
  const control = controlAt(body, "");
  if (control !== null) return `${control}: a control or invisible character`;
  const parsed = summarySchema.safeParse(body);
  if (!parsed.success) return firstIssue(parsed.error);
  const s = parsed.data;
  if (s.month !== month || s.report.month !== month)
    return `it answered for ${s.month === month ? s.report.month : s.month}, not ${month}`;
  const identity = statementMismatch(s.agent, month, s.report.evidence);
  if (identity) return identity;
  const { start, end } = monthInterval(month);
  const days = Math.round((end - start) / 86_400_000);
  const known = new Set(s.report.categories.map((c) => c.category));
  const classes = new Set(s.report.service_classes.map((c) => c.service_class));
  for (const row of s.report.categories) {
    if (!classes.has(row.service_class)) return `category ${row.category}: unknown service class`;
  }
  const lists = [
    ["incidents", s.report.incidents ?? []],
    ["latency_incidents", s.report.latency_incidents ?? []],
  ] as const;
  for (const [list, items] of lists) {
    // Each format lists incidents under their category: one of another would be shown by none.
    const stray = items.find((item) => !known.has(item.category));
    if (stray) return `report.${list}: unknown category ${stray.category}`;
  }
  for (const item of s.report.automatic_exclusions ?? []) {
    const stray = item.categories.find((c) => !known.has(c));
    if (stray) return `report.automatic_exclusions: unknown category ${stray}`;
  }
  for (const row of s.report.daily) {
    if (
      !row.date.startsWith(`${month}-`) ||
      Number(row.date.slice(8)) < 1 ||
      Number(row.date.slice(8)) > days
    )
      return `daily: ${row.date} is not a day of ${month}`;
    if (!known.has(row.category)) return `daily: unknown category ${row.category}`;
  }
  for (const [table, rows] of [
    ["latency_counts", s.latency_counts],
    ["measured", s.measured],
  ] as const) {
    for (const [id, entry] of Object.entries(rows)) {
      if (!known.has(id)) return `${table}: unknown category ${id}`;
      if (entry.days.length !== days)
        return `${table}.${id}: ${entry.days.length} days, ${month} has ${days}`;
    }
  }
  const inconsistent = summaryInconsistency(s as unknown as AgentMonthSummary, days);
  if (inconsistent !== null) return inconsistent;
  return s as unknown as AgentMonthSummary;
}

/**
 * The summary's agent id must be the agent its own signed statement names, with the statement's
 * record count: a pinned key could otherwise sign a summary that claims another agent's id while
 * merged_from shows a statement by someone else.
 */
function statementMismatch(
  agent: string,
  month: string,
  evidence: { records: number; statement?: unknown },
): string | null {
  const statement = evidence.statement;
  if (statement === undefined || statement === null) return null;
  if (typeof statement !== "object") return "report.evidence.statement: not an object";
  const named = (statement as { agent?: unknown }).agent;
  if (named !== agent)
    return `it says it is agent "${agent}" but its signed statement names ${JSON.stringify(named)}`;
  const signedMonth = (statement as { month?: unknown }).month;
  if (signedMonth !== month)
    return `its signed statement is for ${JSON.stringify(signedMonth)}, not ${month}`;
  const records = (statement as { records?: unknown }).records;
  if (records !== evidence.records)
    return `its evidence counts ${evidence.records} records but its signed statement ${JSON.stringify(records)}`;
  return null;
}

/**
 * A category's largest durations, checked: the answer to the question asked (month, agent,
 * category, top and days, all signed), one list per day of the month, sound on its own
 * (tailProblem); the caller checks it against the agent's summary (tailInconsistency).
 */
export function checkTail(body: unknown, question: TailQuestion): LatencyTail | string {
  const control = controlAt(body, "");
  if (control !== null) return `${control}: a control or invisible character`;
  const parsed = tailSchema.safeParse(body);
  if (!parsed.success) return firstIssue(parsed.error);
  const tail = parsed.data as LatencyTail;
  for (const field of ["month", "agent", "category", "top"] as const) {
    if (tail[field] !== question[field])
      return `it answered ${field} ${JSON.stringify(tail[field])}, not the ${JSON.stringify(question[field])} asked`;
  }
  if (tail.days.join(",") !== question.days.join(","))
    return `it answered days ${tail.days.join(",")}, not the ${question.days.join(",")} asked`;
  if (tail.days_ms.length !== question.days.length)
    return `days_ms: ${tail.days_ms.length} days, not ${question.days.length}`;
  return tailProblem(tail) ?? tail;
}
