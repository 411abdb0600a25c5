import type { Clock } from "../../clock/clock.js";
import { type EpochMs, monthInterval } from "../../model/time.js";
import { answerProblem, statementProblem, type TrustedKeys } from "../../reports/agent-signature.js";
import {
  type AgentMonthSummary,
  type LatencyTail,
  SUMMARY_KIND,
  tailSizeFor,
} from "../../reports/agent-summary.js";
import { tailInconsistency } from "../../reports/agent-summary-consistency.js";
import { checkSummary, checkTail } from "../../reports/agent-summary-schema.js";
import { type AgentPart, type MergedReport, mergeAgentReports } from "../../reports/merge.js";
import { escapedText, printable } from "../../reports/printable.js";
import { CheckFailed, UsageError } from "../errors.js";

const COMMAND = "slo-agent report --from-agents";
/** Per request: a month's summary reads the agent's whole month of evidence. */
export const AGENT_TIMEOUT_MS = 120_000;
export const TOKEN_ENV = "SLO_AGENT_API_TOKEN";

/** One agent to merge: its base URL and the environment variable its bearer token is read from. */
export interface AgentSource {
  readonly url: string;
  readonly tokenEnv: string;
}

const TOKEN_FRAGMENT = /^#token-env=([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * The agents from `--from-agents URL[,URL...]`, checked. `URL#token-env=NAME` reads that agent's
 * token from $NAME instead of SLO_AGENT_API_TOKEN, so that no agent ever sees another's token
 * (the fragment is never sent).
 */
export function agentUrls(value: string): AgentSource[] {
  const given = value
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u !== "");
  if (given.length === 0)
    throw new UsageError(`${COMMAND}: give at least one agent URL, like http://agent-eu:9464`);
  const agents = given.map((text): AgentSource => {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      throw new UsageError(`${COMMAND}: "${text}" is not a URL (like http://agent-eu:9464)`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new UsageError(`${COMMAND}: ${text}: only http:// and https:// agents are supported`);
    }
    if (parsed.username || parsed.password) {
      throw new UsageError(
        `${COMMAND}: ${parsed.host}: put no credentials in the URL; the token comes from ${TOKEN_ENV} (or URL#token-env=NAME)`,
      );
    }
    const fragment = TOKEN_FRAGMENT.exec(parsed.hash);
    if (parsed.hash !== "" && fragment === null) {
      throw new UsageError(`${COMMAND}: ${parsed.host}: the only URL fragment understood is #token-env=NAME`);
    }
    parsed.hash = "";
    return { url: parsed.href.replace(/\/+$/, ""), tokenEnv: fragment?.[1] ?? TOKEN_ENV };
  });
  if (new Set(agents.map((a) => a.url)).size !== agents.length)
    throw new UsageError(`${COMMAND}: an agent URL is given twice`);
  return agents;
}

/** The pinned agent keys (--trust-keys), or null for --insecure-unsigned. */
export type AgentTrust = TrustedKeys | null;

/** The problem with one agent's answer: exit 1, one line naming the agent. */
function refused(url: string, problem: string): CheckFailed {
  // The problem may quote what the agent sent (a key, a category): shown, never acted on.
  return new CheckFailed(`${COMMAND}: the agent at ${url}: ${escapedText(problem)}`);
}

/**
 * One report from several running agents (docs/regions-merge.md): each agent's month summary,
 * its signature checked against the pinned keys and its figures against the schema, then checked
 * to be the same SLA from distinct agents, then each category's largest durations, as many as the
 * pooled nearest rank needs, so that the merged p99 is exact.
 */
export async function reportFromAgents(
  agents: readonly AgentSource[],
  month: string,
  env: NodeJS.ProcessEnv,
  trust: AgentTrust,
  clock: Clock,
): Promise<MergedReport> {
  const tokens = agents.map((a) => {
    const token = env[a.tokenEnv];
    if (token === undefined || token === "") {
      throw new UsageError(
        `${COMMAND}: set ${a.tokenEnv} to the agent.api_token of ${a.url} (it is never read from the command line)`,
      );
    }
    return token;
  });
  const fetchFrom = (i: number, path: string) => fetchJson(agents[i]!, path, tokens[i]!);
  const bodies = await Promise.all(agents.map((_, i) => fetchFrom(i, summaryPath(month))));
  const keyIds = agents.map((a, i) => trusted(a.url, bodies[i], trust));
  const parts = agents.map((a, i) => ({ url: a.url, summary: checkedSummary(a.url, month, bodies[i]) }));
  if (trust !== null) {
    for (const [i, part] of parts.entries()) checkStatement(part, keyIds[i]!, trust, month, clock.now());
  }
  checkDistinct(parts, keyIds);
  checkSameSla(parts);
  const tails = new Map<string, LatencyTail[]>();
  for (const row of parts[0]!.summary.report.categories) {
    const counts = parts.map((p) => p.summary.latency_counts[row.category] ?? { month: 0, days: [] });
    const month_n = counts.reduce((n, c) => n + c.month, 0);
    if (month_n === 0) continue;
    const days = counts[0]!.days.map((_, d) => tailSizeFor(counts.reduce((n, c) => n + (c.days[d] ?? 0), 0)));
    const top = tailSizeFor(month_n);
    const query = `category=${encodeURIComponent(row.category)}&top=${top}&days=${days.join(",")}`;
    const answers = await Promise.all(parts.map((_, i) => fetchFrom(i, `${summaryPath(month)}?${query}`)));
    tails.set(
      row.category,
      answers.map((answer, i) => {
        trusted(agents[i]!.url, answer, trust);
        const summary = parts[i]!.summary;
        const question = { month, agent: summary.agent, category: row.category, top, days };
        const tail = checkTail(answer, question);
        if (typeof tail === "string") throw refused(agents[i]!.url, `its latency tail: ${tail}`);
        const problem = tailInconsistency(tail, summary);
        if (problem !== null) throw tailMismatch(agents[i]!.url, problem, month, clock.now());
        return tail;
      }),
    );
  }
  let merged: MergedReport;
  try {
    merged = mergeAgentReports(parts, tails, clock.now());
  } catch (error) {
    throw new UsageError(
      `${COMMAND}: ${(error as Error).message} (did an agent's evidence change meanwhile? run it again)`,
    );
  }
  return trust === null ? unverified(merged) : merged;
}

/**
 * A tail that disagrees with the agent's summary: for a month that has ended its evidence no
 * longer changes, so the agent contradicts itself (exit 1); while the month runs, results may
 * have arrived between the two answers, so it is worth another run (exit 2). Merged in neither case.
 */
function tailMismatch(url: string, problem: string, month: string, now: EpochMs): Error {
  if (now >= monthInterval(month).end) return refused(url, `its latency tail: ${problem}`);
  return new UsageError(
    `${COMMAND}: the agent at ${url}: its latency tail disagrees with its summary (${escapedText(problem)}): ${month} is still running, so its evidence may have changed meanwhile; run it again`,
  );
}

/** The key id a pinned key signed the answer with; with --insecure-unsigned, none is checked. */
function trusted(url: string, body: unknown, trust: AgentTrust): string | null {
  if (trust === null) return null;
  const verdict = answerProblem(body, trust);
  if (verdict.problem !== null) throw refused(url, verdict.problem);
  return verdict.keyId;
}

/** How far a statement's generated_at may lie ahead of this machine's clock. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The summary's own signed statement, checked under the pinned key that signed the answer
 * (docs/regions-merge.md#what-the-merge-refuses): it verifies, names the agent the key is pinned
 * for (when the key file binds one), counts at least the requests the summary adds, and is not a
 * replay of an earlier one: for a month that has ended it must have been signed after the month's
 * end (so it covers the whole month), and never before the month began or after now.
 */
function checkStatement(
  part: AgentPart,
  keyId: string,
  trust: TrustedKeys,
  month: string,
  now: EpochMs,
): void {
  const evidence = part.summary.report.evidence as { statement?: Record<string, unknown> };
  const problem = statementProblem(evidence, keyId, trust);
  if (problem !== null) throw refused(part.url, problem);
  const statement = evidence.statement!;
  const pinnedFor = trust.get(keyId)!.agent;
  if (pinnedFor !== null && statement.agent !== pinnedFor)
    throw refused(
      part.url,
      `it signs as agent ${JSON.stringify(statement.agent)} with key ${keyId}, which is pinned for agent ${pinnedFor}`,
    );
  if (statement.month !== month)
    throw refused(part.url, `its signed statement is for ${JSON.stringify(statement.month)}, not ${month}`);
  const requests = part.summary.report.categories.reduce((n, c) => n + c.requests, 0);
  const records = typeof statement.records === "number" ? statement.records : -1;
  if (requests > records)
    throw refused(
      part.url,
      `its summary counts ${requests} requests but its signed statement only ${records} records`,
    );
  const generated =
    typeof statement.generated_at === "string" ? Date.parse(statement.generated_at) : Number.NaN;
  const { start, end } = monthInterval(month);
  if (Number.isNaN(generated) || generated < start || generated > now + CLOCK_SKEW_MS)
    throw refused(
      part.url,
      `its signed statement's generated_at ${JSON.stringify(statement.generated_at)} is not between the start of ${month} and now`,
    );
  if (now >= end && generated < end)
    throw refused(
      part.url,
      `its signed statement was made at ${new Date(generated).toISOString()}, before ${month} ended: an earlier statement replayed, not the whole month`,
    );
}

/** --insecure-unsigned: every format stamps the merged report UNVERIFIED. */
function unverified(report: MergedReport): MergedReport {
  return {
    ...report,
    evidence: {
      ...report.evidence,
      verified: false,
      problem: "the agents' summaries were merged without checking their signatures (--insecure-unsigned)",
    },
  };
}

function summaryPath(month: string): string {
  return `/api/v1/months/${month}/summary`;
}

async function fetchJson(agent: AgentSource, path: string, token: string): Promise<unknown> {
  const base = agent.url;
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
        ? `it refused the token in ${agent.tokenEnv}`
        : "its agent.api_token is not configured";
    throw new UsageError(`${COMMAND}: the agent at ${base} answered ${response.status}: ${why}`);
  }
  const text = await cappedText(response, base);
  if (response.status !== 200) {
    throw new UsageError(
      `${COMMAND}: the agent at ${base} answered ${response.status}: ${printable(text.split("\n")[0]!.slice(0, 200))}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${COMMAND}: the agent at ${base} did not answer JSON (is it an slo-agent?)`);
  }
}

/**
 * A summary is a few counts per category and day, and a tail query the largest durations: more
 * than this is not an answer but an attempt to exhaust the memory of the machine that merges.
 */
const MAX_AGENT_ANSWER_BYTES = 16 * 1024 * 1024;

/** The body as text, read at most MAX_AGENT_ANSWER_BYTES: a larger one is refused naming the agent. */
async function cappedText(response: Response, base: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body === null) return "";
  try {
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > MAX_AGENT_ANSWER_BYTES) {
        await response.body.cancel().catch(() => undefined);
        throw refused(base, `its answer is larger than ${MAX_AGENT_ANSWER_BYTES / (1024 * 1024)} MiB`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof CheckFailed) throw error;
    throw new UsageError(`${COMMAND}: cannot read the answer of the agent at ${base}: ${reasonOf(error)}`);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function reasonOf(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return `no answer within ${AGENT_TIMEOUT_MS / 1000} s`;
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}

function checkedSummary(url: string, month: string, body: unknown): AgentMonthSummary {
  if ((body as { kind?: unknown } | null)?.kind !== SUMMARY_KIND) {
    throw refused(url, `it did not answer a month summary (${SUMMARY_KIND})`);
  }
  const summary = checkSummary(body, month);
  if (typeof summary === "string") throw refused(url, summary);
  const pruned = summary.report.categories.filter((c) => c.latency_source !== "exact").map((c) => c.category);
  if (pruned.length > 0) {
    throw new UsageError(
      `${COMMAND}: the agent at ${url} pruned raw results of ${month} (${pruned.join(", ")}): no exact merge is possible; use its own report`,
    );
  }
  return summary;
}

/** Each agent once: two answers with one agent.id or one signing key are one agent counted twice. */
function checkDistinct(parts: readonly AgentPart[], keyIds: readonly (string | null)[]): void {
  const byAgent = new Map<string, string>();
  const byKey = new Map<string, string>();
  parts.forEach(({ url, summary }, i) => {
    const other = byAgent.get(summary.agent);
    if (other !== undefined) {
      throw refused(
        url,
        `it is the same agent "${summary.agent}" as ${other} (give each agent its own agent.id)`,
      );
    }
    byAgent.set(summary.agent, url);
    const keyId = keyIds[i];
    if (keyId === null || keyId === undefined) return;
    const sameKey = byKey.get(keyId);
    if (sameKey !== undefined) throw refused(url, `it signs with the same key ${keyId} as ${sameKey}`);
    byKey.set(keyId, url);
  });
}

/** Distinct agents measuring the same SLA: otherwise adding their counts means nothing. */
function checkSameSla(parts: readonly AgentPart[]): void {
  const first = parts[0]!;
  const layout = (s: AgentMonthSummary) =>
    JSON.stringify([
      s.report.categories.map((c) => c.category),
      s.report.daily.map((d) => [d.date, d.category]),
    ]);
  for (const part of parts.slice(1)) {
    if (part.summary.sla_config_sha256 !== first.summary.sla_config_sha256) {
      throw new UsageError(
        `${COMMAND}: the agents at ${first.url} and ${part.url} measure different SLA configurations (categories, classes, maintenance, exclusions, credits or probe timeouts differ: sla_config_sha256 ${first.summary.sla_config_sha256.slice(0, 12)} vs ${part.summary.sla_config_sha256.slice(0, 12)})`,
      );
    }
    // Same configuration claimed, so the same categories and days, in the same order.
    if (layout(part.summary) !== layout(first.summary)) {
      throw refused(
        part.url,
        `its categories or days differ from those of ${first.url} under the same SLA configuration`,
      );
    }
  }
}
