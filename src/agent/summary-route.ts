import type { IncomingMessage, ServerResponse } from "node:http";
import { configSha256, slaConfigSha256 } from "../config/fingerprint.js";
import { authorizeAdmin, type Route, reply } from "../export/index.js";
import type { SloConfig } from "../model/config.js";
import { type EpochMs, monthInterval } from "../model/time.js";
import { describeProblem, type EvidenceStore, monthStatement } from "../record/index.js";
import { signAnswer } from "../reports/agent-signature.js";
import { SummaryCollector } from "../reports/agent-summary.js";
import { sealReport } from "../reports/evidence.js";
import { buildMonthlyReport, type MonthlyReport } from "../reports/index.js";
import { withFeedWindows } from "../slo/index.js";
import { AGENT_VERSION } from "../version.js";

export const SUMMARY_PATH = /^\/api\/v1\/months\/(\d{4}-\d{2})\/summary$/;
/** More durations than a month of one-second probes: a larger top is a mistake, not a request. */
const MAX_TOP = 5_000_000;

const REFUSED: Record<401 | 403, string> = {
  401: "unauthorized: send Authorization: Bearer <agent.api_token>\n",
  403: "forbidden: no agent.api_token is configured, so the read API is off\n",
};

export interface SummarySource {
  readonly config: () => SloConfig;
  readonly store: EvidenceStore;
  readonly now: () => EpochMs;
}

/**
 * `GET /api/v1/months/YYYY-MM/summary` (docs/regions-merge.md), to `Authorization: Bearer
 * <agent.api_token>` only: the month's sealed report and counts. With `category=ID&top=M` (and
 * optionally `days=m1,m2,...`, one per day of the month) it answers the category's M largest
 * latency-counted durations of the month and the m_d largest of each day instead.
 */
export function summaryRoute(source: SummarySource): Route {
  return {
    path: "/api/v1/months/",
    prefix: true,
    method: "GET",
    handle(request, response) {
      request.resume();
      const config = source.config();
      const verdict = authorizeAdmin(request.headers.authorization, config.agent.apiToken ?? null);
      if (verdict !== 200) {
        reply(response, verdict, REFUSED[verdict], verdict === 401 ? { "www-authenticate": "Bearer" } : {});
        return;
      }
      answer(source, config, request, response);
    },
  };
}

function answer(
  source: SummarySource,
  config: SloConfig,
  request: IncomingMessage,
  response: ServerResponse,
) {
  const url = new URL(request.url ?? "/", "http://agent");
  const month = SUMMARY_PATH.exec(url.pathname)?.[1];
  if (month === undefined) {
    reply(response, 404, "not found: try /api/v1/months/YYYY-MM/summary\n");
    return;
  }
  let period: ReturnType<typeof monthInterval>;
  try {
    period = monthInterval(month);
  } catch (error) {
    reply(response, 400, `bad month: ${(error as Error).message}\n`);
    return;
  }
  const tail = tailQuery(url, config, Math.round((period.end - period.start) / 86_400_000));
  if (typeof tail === "string") {
    reply(response, 400, `${tail}\n`);
    return;
  }
  const now = source.now();
  const effective = withFeedWindows(config, source.store.feedWindows.all(), {
    ...source.store.declaredWindowVersions(),
    now,
    month,
  });
  const collector = new SummaryCollector(effective, period, tail?.category ?? null);
  const report = buildMonthlyReport({
    config: effective,
    store: source.store,
    month,
    now,
    agent: config.agent.id,
    observeResult: (result, excluded) => collector.observe(result, excluded),
  });
  const body = tail
    ? collector.tail({ month, agent: config.agent.id, top: tail.top, days: tail.days })
    : collector.summary(sealed(source.store, config, report, now), {
        agent: config.agent.id,
        region: config.agent.region,
        agent_version: AGENT_VERSION,
        sla_config_sha256: slaConfigSha256(config),
        credits: config.sla.credits,
      });
  // Signed whole by the agent's key: the merge adds only answers from keys it pinned.
  const key = source.store.signingKey();
  if (key === null) {
    reply(response, 503, "no signing key: the agent cannot sign its summary (see agent.signing_key_file)\n");
    return;
  }
  response.writeHead(200, { "content-type": "application/json" });
  response.end(`${JSON.stringify(signAnswer(body, key))}\n`);
}

/** The agent's own report with its evidence re-checked and its statement signed, as `report` writes it. */
function sealed(store: EvidenceStore, config: SloConfig, report: MonthlyReport, now: EpochMs): MonthlyReport {
  const { start, end } = monthInterval(report.month);
  const verification = store.verifyPeriod({ from: start, to: end });
  const config_sha256 = configSha256(config);
  const statement = monthStatement({
    month: report.month,
    verification,
    configSha256: config_sha256,
    agent: config.agent.id,
    agentVersion: AGENT_VERSION,
    generatedAt: now,
  });
  return sealReport(report, {
    records: verification.records,
    sha256: verification.sha256,
    problem: verification.problem,
    problemText: verification.problem ? describeProblem(verification.problem) : null,
    configSha256: config_sha256,
    statement,
    signature: store.signingKey()?.sign(statement) ?? null,
  });
}

type TailQuery = { category: string; top: number; days: number[] } | null;

/** `category` and `top` (and `days`), checked; null when none is given; a message when wrong. */
function tailQuery(url: URL, config: SloConfig, dayCount: number): TailQuery | string {
  const category = url.searchParams.get("category");
  const top = url.searchParams.get("top");
  const days = url.searchParams.get("days");
  if (category === null && top === null && days === null) return null;
  if (category === null || top === null) return "category and top go together: ?category=ID&top=M";
  if (!config.categories.has(category)) return `unknown category "${category}"`;
  const counts = [top, ...(days === null || days === "" ? [] : days.split(","))].map(Number);
  if (!counts.every((n) => Number.isInteger(n) && n >= 0 && n <= MAX_TOP)) {
    return `top and days must be whole numbers within 0..${MAX_TOP}`;
  }
  if (counts.length > 1 + dayCount) return `days lists more than the month's ${dayCount} days`;
  return { category, top: counts[0]!, days: counts.slice(1) };
}
