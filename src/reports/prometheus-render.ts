import { mdText } from "./markdown.js";
import type { QuantileBounds } from "./prometheus-buckets.js";
import { type PrometheusFigures, type PrometheusMonthReport, REQUESTS } from "./prometheus-month.js";

/** The formats a Prometheus-based report comes in. */
export const PROMETHEUS_REPORT_FORMATS = ["json", "md"] as const;
export type PrometheusReportFormat = (typeof PROMETHEUS_REPORT_FORMATS)[number];

export function renderPrometheusReport(
  report: PrometheusMonthReport,
  format: PrometheusReportFormat,
): string {
  return format === "json" ? `${JSON.stringify(report, null, 2)}\n` : markdownOf(report);
}

const count = (n: number) => n.toFixed(1);
const pct = (p: number | null) => (p === null ? "no traffic" : `${p.toFixed(3)} %`);
/** An availability beside its target: one under it is never rounded up onto it. */
const pctAgainst = (p: number | null, target: number | null) =>
  p !== null && target !== null && p < target && Number(p.toFixed(3)) >= target ? `${p} %` : pct(p);
const met = (m: boolean | null) => (m === null ? "n/a" : m ? "met" : "**missed**");
const availabilityMet = (r: { availability_met: boolean | null; availability_undecided: string | null }) =>
  r.availability_undecided !== null ? "**undecided**" : met(r.availability_met);
const latencyMet = (c: PrometheusMonthReport["categories"][number]) =>
  c.latency_undecided !== null
    ? "**undecided**"
    : c.latency_met_within_extrapolation !== null
      ? "met (within extrapolation, below)"
      : met(c.latency_met);

function ms(p99: number | null, bucket: QuantileBounds | null): string {
  if (p99 === null || bucket === null) return "no responses";
  const upper = bucket.upper === null ? "∞" : `${bucket.upper}`;
  // A p99 just over its bucket's lower bound (an objective it missed) must not round onto it.
  const rounded = p99.toFixed(1);
  const shown = Number(rounded) <= bucket.lower && p99 > bucket.lower ? `${p99}` : rounded;
  return `${shown} ms (bucket ${bucket.lower}–${upper} ms)`;
}

function figureCells(f: PrometheusFigures, target: number | null): string {
  const availability = pctAgainst(f.availability_pct, target);
  return `${count(f.requests)} | ${count(f.successful)} | ${count(f.excluded)} | ${availability} | ${ms(f.latency_p99_ms, f.latency_p99_bucket_ms)}`;
}

function markdownOf(r: PrometheusMonthReport): string {
  const lines = [
    `# SLA figures for ${r.month} from Prometheus (approximate)`,
    "",
    `> ${r.notice}`,
    "",
    ...(r.preliminary
      ? [
          `> **PRELIMINARY:** the month has not ended; these figures run to ${r.source.evaluated_at} and may still change.`,
          "",
        ]
      : []),
    `Source: ${r.source.url}, instant queries at ${r.source.evaluated_at} over [${r.source.range}] ` +
      `(period ${r.period.start} to ${r.period.end}).`,
    "",
    ...r.source.warnings.flatMap((w) => [`> **Prometheus warned:** ${mdText(w)}`, ""]),
    ...r.source.notes.flatMap((w) => [`> **Prometheus noted:** ${mdText(w)}`, ""]),
    ...(r.source.found_series ? [] : [`> **No series:** ${noSeries(r.month)}`, ""]),
    ...(r.source.found_series && r.source.probed_without_requests.length > 0
      ? [`> **No series:** ${probedWithoutRequests(r.month, r.source.probed_without_requests)}`, ""]
      : []),
    "## Categories",
    "",
    "| category | region | requests | successful | excluded (not in requests) | availability | p99 | availability objective | latency objective |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const c of r.categories) {
    const target = c.availability_target_pct === null ? "n/a" : `${c.availability_target_pct} %`;
    lines.push(
      `| **${mdText(c.title)}** (${c.category}) | **all regions** | ${figureCells(c, c.availability_target_pct)} | ${target}: ${availabilityMet(c)} | ${c.latency_objective_ms} ms: ${latencyMet(c)} |`,
    );
    for (const region of c.regions) {
      lines.push(`| | ${mdText(region.region)} | ${figureCells(region, c.availability_target_pct)} | | |`);
    }
  }
  if (r.repaired_buckets.length > 0) {
    lines.push("", "Buckets taken as histogram_quantile() takes them (each at least the ones below it):", "");
    for (const repair of r.repaired_buckets) lines.push(`- ${mdText(repair)}`);
  }
  const undecided = r.categories.filter((c) => c.latency_undecided !== null);
  if (undecided.length > 0) {
    lines.push("", "Latency objectives these buckets cannot decide:", "");
    for (const c of undecided) lines.push(`- ${c.category}: ${c.latency_undecided}`);
  }
  const open = [...r.categories, ...r.service_classes].filter((c) => c.availability_undecided !== null);
  if (open.length > 0) {
    lines.push("", "Availability objectives these counters cannot decide:", "");
    for (const c of open) {
      lines.push(`- ${"category" in c ? c.category : c.service_class}: ${c.availability_undecided}`);
    }
  }
  const stretched = r.categories.filter((c) => c.latency_met_within_extrapolation !== null);
  if (stretched.length > 0) {
    lines.push("", "Latency objectives met only within what increase() extrapolates:", "");
    for (const c of stretched) lines.push(`- ${c.category}: ${c.latency_met_within_extrapolation}`);
  }
  lines.push("", "## Service classes (categories pooled)", "");
  lines.push(
    "| service class | requests | successful | availability | objective |",
    "| --- | --- | --- | --- | --- |",
  );
  for (const s of r.service_classes) {
    lines.push(
      `| ${s.service_class} | ${count(s.requests)} | ${count(s.successful)} | ${pctAgainst(s.availability_pct, s.availability_target_pct)} | ${s.availability_target_pct} %: ${availabilityMet(s)} |`,
    );
  }
  lines.push("", "## Precision: how these figures differ from the store-based report", "");
  for (const p of r.precision) lines.push(`- **${p.figure}**: ${p.limit}`);
  return `${lines.join("\n")}\n`;
}

/** Why a category the configuration probes reads "no traffic". */
export function probedWithoutRequests(month: string, categories: readonly string[]): string {
  return `Prometheus counted no ${REQUESTS} in ${month} of ${categories.join(", ")} (no series, or only zeros), which the configuration probes: "no traffic" there means no figures, not no failures.`;
}

/** Why every category reads "no traffic" when Prometheus has none of the agents' counters. */
export function noSeries(month: string): string {
  return `Prometheus has no ${REQUESTS} series of any configured category in ${month}: check that it is the one scraping the agents, and that they ran in the month.`;
}
