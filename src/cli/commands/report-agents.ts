import type { Clock } from "../../clock/clock.js";
import {
  type AgentMonthSummary,
  type LatencyTail,
  SUMMARY_KIND,
  tailSizeFor,
} from "../../reports/agent-summary.js";
import { type AgentPart, type MergedReport, mergeAgentReports } from "../../reports/merge.js";
import { UsageError } from "../errors.js";

const COMMAND = "slo-agent report --from-agents";
/** Per request: a month's summary reads the agent's whole month of evidence. */
export const AGENT_TIMEOUT_MS = 120_000;
export const TOKEN_ENV = "SLO_AGENT_API_TOKEN";

/** The agents' base URLs from `--from-agents URL[,URL...]`, checked. */
export function agentUrls(value: string): string[] {
  const urls = value
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u !== "");
  if (urls.length === 0)
    throw new UsageError(`${COMMAND}: give at least one agent URL, like http://agent-eu:9464`);
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`${COMMAND}: "${url}" is not a URL (like http://agent-eu:9464)`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new UsageError(`${COMMAND}: ${url}: only http:// and https:// agents are supported`);
    }
    if (parsed.username || parsed.password) {
      throw new UsageError(
        `${COMMAND}: ${parsed.host}: put no credentials in the URL; the token comes from ${TOKEN_ENV}`,
      );
    }
  }
  if (new Set(urls).size !== urls.length) throw new UsageError(`${COMMAND}: an agent URL is given twice`);
  return urls.map((u) => u.replace(/\/+$/, ""));
}

/**
 * One report from several running agents (docs/regions-merge.md): each agent's month summary,
 * checked to be the same SLA from distinct agents, then each category's largest durations, as
 * many as the pooled nearest rank needs, so that the merged p99 is exact.
 */
export async function reportFromAgents(
  urls: readonly string[],
  month: string,
  token: string | undefined,
  clock: Clock,
): Promise<MergedReport> {
  if (token === undefined || token === "") {
    throw new UsageError(
      `${COMMAND}: set ${TOKEN_ENV} to the agents' agent.api_token (it is never read from the command line)`,
    );
  }
  const summaries = await Promise.all(urls.map((url) => fetchJson(url, summaryPath(month), token)));
  const parts = urls.map((url, i) => ({ url, summary: checkedSummary(url, month, summaries[i]) }));
  checkSameSla(parts);
  const tails = new Map<string, LatencyTail[]>();
  for (const row of parts[0]!.summary.report.categories) {
    const counts = parts.map((p) => p.summary.latency_counts[row.category] ?? { month: 0, days: [] });
    const month_n = counts.reduce((n, c) => n + c.month, 0);
    if (month_n === 0) continue;
    const days = counts[0]!.days.map((_, d) => tailSizeFor(counts.reduce((n, c) => n + (c.days[d] ?? 0), 0)));
    const query = `category=${encodeURIComponent(row.category)}&top=${tailSizeFor(month_n)}&days=${days.join(",")}`;
    const answers = await Promise.all(
      parts.map((p) => fetchJson(p.url, `${summaryPath(month)}?${query}`, token)),
    );
    tails.set(row.category, answers as LatencyTail[]);
  }
  try {
    return mergeAgentReports(parts, tails, clock.now());
  } catch (error) {
    throw new UsageError(
      `${COMMAND}: ${(error as Error).message} (did an agent's evidence change meanwhile? run it again)`,
    );
  }
}

function summaryPath(month: string): string {
  return `/api/v1/months/${month}/summary`;
}

async function fetchJson(base: string, path: string, token: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
      signal: AbortSignal.timeout(AGENT_TIMEOUT_MS),
      redirect: "error",
    });
  } catch (error) {
    throw new UsageError(`${COMMAND}: cannot reach the agent at ${base}: ${reasonOf(error)}`);
  }
  if (response.status === 401 || response.status === 403) {
    const why =
      response.status === 401
        ? `it refused the token in ${TOKEN_ENV}`
        : "its agent.api_token is not configured";
    throw new UsageError(`${COMMAND}: the agent at ${base} answered ${response.status}: ${why}`);
  }
  const text = await response.text();
  if (response.status !== 200) {
    throw new UsageError(
      `${COMMAND}: the agent at ${base} answered ${response.status}: ${text.split("\n")[0]!.slice(0, 200)}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${COMMAND}: the agent at ${base} did not answer JSON (is it an slo-agent?)`);
  }
}

function reasonOf(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return `no answer within ${AGENT_TIMEOUT_MS / 1000} s`;
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}

function checkedSummary(url: string, month: string, body: unknown): AgentMonthSummary {
  const summary = body as Partial<AgentMonthSummary> | null;
  if (summary?.kind !== SUMMARY_KIND || !summary.report) {
    throw new UsageError(`${COMMAND}: the agent at ${url} did not answer a month summary (${SUMMARY_KIND})`);
  }
  if (summary.month !== month) {
    throw new UsageError(`${COMMAND}: the agent at ${url} answered for ${summary.month}, not ${month}`);
  }
  const pruned = summary.report.categories.filter((c) => c.latency_source !== "exact").map((c) => c.category);
  if (pruned.length > 0) {
    throw new UsageError(
      `${COMMAND}: the agent at ${url} pruned raw results of ${month} (${pruned.join(", ")}): no exact merge is possible; use its own report`,
    );
  }
  return summary as AgentMonthSummary;
}

/** Distinct agents measuring the same SLA: otherwise adding their counts means nothing. */
function checkSameSla(parts: readonly AgentPart[]): void {
  const byAgent = new Map<string, string>();
  for (const { url, summary } of parts) {
    const other = byAgent.get(summary.agent);
    if (other !== undefined) {
      throw new UsageError(
        `${COMMAND}: ${other} and ${url} are the same agent "${summary.agent}" (give each agent its own agent.id)`,
      );
    }
    byAgent.set(summary.agent, url);
  }
  const first = parts[0]!;
  for (const part of parts.slice(1)) {
    if (part.summary.sla_config_sha256 !== first.summary.sla_config_sha256) {
      throw new UsageError(
        `${COMMAND}: the agents at ${first.url} and ${part.url} measure different SLA configurations (categories, classes, maintenance, exclusions, credits or probe timeouts differ: sla_config_sha256 ${first.summary.sla_config_sha256.slice(0, 12)} vs ${part.summary.sla_config_sha256.slice(0, 12)})`,
      );
    }
  }
}
