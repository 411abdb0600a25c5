import type { Clock } from "../../clock/clock.js";
import { writeAtomically } from "../../reports/index.js";
import {
  MonthNotStartedError,
  PrometheusValueError,
  prometheusMonthReport,
} from "../../reports/prometheus-month.js";
import { PrometheusQueryError } from "../../reports/prometheus-query.js";
import {
  noSeries,
  PROMETHEUS_REPORT_FORMATS,
  type PrometheusReportFormat,
  probedWithoutRequests,
  renderPrometheusReport,
} from "../../reports/prometheus-render.js";
import { spellsTokenDigits } from "../../reports/remote-text.js";
import { loadCommandContext } from "../context.js";
import { CheckFailed, UsageError } from "../errors.js";
import type { CommonOptions } from "../options.js";

/** The bearer token for the Prometheus API: from the environment only, never from argv. */
export const PROMETHEUS_TOKEN_ENV = "SLO_AGENT_PROMETHEUS_TOKEN";

export interface PrometheusReportOptions extends CommonOptions {
  prometheus: string;
  format?: string;
  out?: string;
  category: string[];
  failOnMiss?: boolean;
  claim?: boolean;
}

const COMMAND = "slo-agent report --prometheus";

/** `report --month M --prometheus URL`: the month from a Prometheus-compatible API, approximate. */
export async function runPrometheusReport(
  month: string,
  opts: PrometheusReportOptions,
  clock: Clock,
): Promise<void> {
  if (opts.claim) throw new UsageError(`${COMMAND}: --claim needs the evidence store (drop --prometheus)`);
  const url = checkedUrl(opts.prometheus);
  const format = checkedFormat(opts);
  const { config } = await loadCommandContext(opts, process.stderr, "offline");
  const known = new Set(config.categories.keys());
  const unknown = opts.category.filter((c) => !known.has(c));
  if (unknown.length > 0) {
    throw new UsageError(
      `${COMMAND}: --category: unknown ${unknown.join(", ")} (known: ${[...known].join(", ")})`,
    );
  }
  const token = process.env[PROMETHEUS_TOKEN_ENV];
  const echoes = spellsTokenDigits(token);
  let report: Awaited<ReturnType<typeof prometheusMonthReport>>;
  try {
    report = await prometheusMonthReport({
      config,
      source: { url, ...(token ? { bearerToken: token } : {}) },
      month,
      now: clock.now(),
      ...(opts.category.length > 0 ? { categories: [...new Set(opts.category)] } : {}),
    });
  } catch (error) {
    const message = `${COMMAND}: ${(error as Error).message}`;
    // The last look at what is said: a number the report worked out (a sum, an exponent written
    // out) can spell out the token in digits (hostile reviews, rounds 15 and 16).
    if (echoes(message)) throw new UsageError(withheld(url, "its refusal"));
    if (error instanceof PrometheusValueError) throw new CheckFailed(message);
    if (error instanceof PrometheusQueryError || error instanceof MonthNotStartedError) {
      throw new UsageError(message);
    }
    throw error;
  }
  const content = renderPrometheusReport(report, format);
  // Said on stderr too: a partial answer or an undecided objective must not pass unseen in a pipeline.
  const said: string[] = [];
  for (const warning of report.source.warnings) said.push(`${COMMAND}: Prometheus warned: ${warning}\n`);
  for (const note of report.source.notes) said.push(`${COMMAND}: Prometheus noted: ${note}\n`);
  const empty = !report.source.found_series;
  if (empty) said.push(`${COMMAND}: ${noSeries(month)}\n`);
  const unseen = report.source.probed_without_requests;
  if (!empty && unseen.length > 0) said.push(`${COMMAND}: ${probedWithoutRequests(month, unseen)}\n`);
  const undecided = report.categories.filter((c) => c.latency_undecided !== null);
  for (const c of undecided) {
    said.push(`${COMMAND}: ${c.category}: latency objective undecided: ${c.latency_undecided}\n`);
  }
  const open = [
    ...report.categories.map((c) => ({ name: c.category, why: c.availability_undecided })),
    ...report.service_classes.map((c) => ({ name: c.service_class, why: c.availability_undecided })),
  ].filter((c) => c.why !== null);
  for (const c of open) said.push(`${COMMAND}: ${c.name}: availability objective undecided: ${c.why}\n`);
  for (const c of report.categories.filter((c) => c.latency_met_within_extrapolation !== null)) {
    said.push(
      `${COMMAND}: ${c.category}: latency objective met only within increase()'s extrapolation: ${c.latency_met_within_extrapolation}\n`,
    );
  }
  if (echoes(content) || said.some(echoes)) throw new UsageError(withheld(url, "the report"));
  if (opts.out === undefined) process.stdout.write(content);
  else await writeOut(opts.out, content);
  for (const line of said) process.stderr.write(line);
  const missed = report.categories.filter((c) => c.availability_met === false || c.latency_met === false);
  // --fail-on-miss is a gate: an objective these figures cannot show met, or figures Prometheus
  // itself warns about (a partial answer), do not pass it.
  // Prometheus' note that it took out-of-order buckets as cumulative (2.48+) is in source.notes,
  // not here: the report's own checks bound and list those (an honest increase() makes them).
  const warned = report.source.warnings.length > 0;
  if (
    opts.failOnMiss &&
    (missed.length + undecided.length + open.length + unseen.length > 0 || warned || empty)
  ) {
    const parts = [
      ...(missed.length > 0
        ? [`objectives missed in ${month}: ${missed.map((c) => c.category).join(", ")}`]
        : []),
      ...(undecided.length > 0
        ? [`latency objectives undecided in ${month}: ${undecided.map((c) => c.category).join(", ")}`]
        : []),
      ...(open.length > 0
        ? [`availability objectives undecided in ${month}: ${open.map((c) => c.name).join(", ")}`]
        : []),
      ...(warned ? ["Prometheus warned about its answers (see above)"] : []),
      ...(empty ? [`no series of the agents in ${month} (see above)`] : []),
      ...(!empty && unseen.length > 0
        ? [`no requests counted in ${month} of probed ${unseen.join(", ")} (see above)`]
        : []),
    ];
    throw new CheckFailed(`${COMMAND}: ${parts.join("; ")}`);
  }
}

/** What is said instead of a text that would spell out part of the bearer token. */
function withheld(url: string, what: string): string {
  return `${COMMAND}: ${url}: ${what} would spell out the bearer token (${PROMETHEUS_TOKEN_ENV}) in digits from the source's counts: not shown`;
}

function checkedUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${COMMAND}: "${text}" is not a URL (e.g. http://prometheus:9090)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`${COMMAND}: ${url.protocol} URLs are not supported (use http or https)`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new UsageError(
      `${COMMAND}: put credentials in ${PROMETHEUS_TOKEN_ENV} (a bearer token), not in the URL: argv is visible to every user`,
    );
  }
  return url.toString().replace(/\/+$/, "");
}

function checkedFormat(opts: PrometheusReportOptions): PrometheusReportFormat {
  const fromOut = opts.out?.match(/\.(json|md)$/)?.[1];
  if (opts.out !== undefined && fromOut === undefined) {
    throw new UsageError(`${COMMAND}: --out: "${opts.out}" must end in .json or .md`);
  }
  const asked = opts.format === "markdown" ? "md" : (opts.format ?? fromOut);
  const format = asked ?? (process.stdout.isTTY === true ? "md" : "json");
  if (!(PROMETHEUS_REPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(
      `${COMMAND}: --format must be json or md (the other formats need the evidence store)`,
    );
  }
  if (fromOut !== undefined && fromOut !== format) {
    throw new UsageError(`${COMMAND}: --out: "${opts.out}" names ${fromOut}, but --format is ${format}`);
  }
  return format as PrometheusReportFormat;
}

async function writeOut(file: string, content: string): Promise<void> {
  try {
    await writeAtomically(file, content);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`${COMMAND}: --out: cannot write ${file} (${reason})`);
  }
}
