import { DEFAULT_STALL_MS, type SloConfig, type Target } from "../model/config.js";
import { redactSecrets, secretForms } from "../model/secret.js";
import type { EpochMs, Interval } from "../model/time.js";
import { AGENT_VERSION } from "../version.js";
import type { Coverage, ReportContext } from "./model.js";

/** Below this coverage a month's figures are preliminary even after it ended (contract section 10). */
export const FINAL_COVERAGE_RATIO = 0.9;

/**
 * Who measured what: the provider, region, agent and its version, and the targets probed by
 * their base URL only (a credential lives in `auth` or headers, never in what is shown here).
 * The targets are those the month was measured against, read from the configurations the agent
 * recorded in its evidence log (`recorded`: in force at the month's start and loaded during it);
 * the current configuration's only when none was recorded (imported data, an older store).
 */
export function reportContext(
  config: SloConfig,
  agent: string | null,
  recorded: readonly { readonly payload: string }[] = [],
): ReportContext {
  const probed = new Set(config.probes.map((p) => p.target));
  return {
    provider: config.sla.provider,
    region: config.agent.region,
    agent,
    agent_version: AGENT_VERSION,
    targets:
      measuredTargets(recorded) ??
      [...config.targets.values()]
        .filter((t) => probed.has(t.id))
        .map((t) => ({ id: t.id, base_url: shownBaseUrl(t) })),
    merchant: config.sla.merchant,
    contract_ref: config.sla.contractRef,
    monthly_fee: config.sla.monthlyFee,
    max_stall_ms: stallGuardsOf(config, recorded),
  };
}

/**
 * agent.max_stall_ms of the configurations recorded for the month (in force at its start and
 * loaded during it), each value once in load order; the given configuration's when none was
 * recorded. What judged which results were the agent's own delay (agent_error).
 */
export function stallGuardsOf(
  config: SloConfig,
  recorded: readonly { readonly payload: string }[],
): number[] {
  const values = recorded.map(({ payload }) => {
    const agent = (JSON.parse(payload) as { agent?: { maxStallMs?: unknown } }).agent;
    return typeof agent?.maxStallMs === "number" ? agent.maxStallMs : DEFAULT_STALL_MS;
  });
  return [...new Set(values.length > 0 ? values : [config.agent.maxStallMs ?? DEFAULT_STALL_MS])];
}

/** The base URL without user info, and without any value the environment put into it (a key in a path or query). */
function shownBaseUrl(target: Target): string {
  const forms = secretForms((target.environmentValues ?? []).map((v) => v.reveal()));
  return redactSecrets(withoutUserInfo(target.baseUrl), forms);
}

/** The probed targets of recorded configurations (their effective form), each id and base URL once; null without any. */
export function measuredTargets(
  recorded: readonly { readonly payload: string }[],
): { id: string; base_url: string }[] | null {
  const seen = new Map<string, { id: string; base_url: string }>();
  for (const { payload } of recorded) {
    const config = JSON.parse(payload) as {
      targets?: Record<string, { id?: string; baseUrl?: string }>;
      probes?: { target?: string }[];
    };
    const probed = new Set((config.probes ?? []).map((p) => p.target));
    for (const [id, target] of Object.entries(config.targets ?? {})) {
      if (!probed.has(id) || typeof target.baseUrl !== "string") continue;
      const shown = { id, base_url: withoutUserInfo(target.baseUrl) };
      seen.set(`${shown.id}\u0000${shown.base_url}`, shown);
    }
  }
  return seen.size === 0 ? null : [...seen.values()];
}

/** A base URL with any user:password@ taken out, in case one was written there. */
function withoutUserInfo(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^/@]*@/i, "$1");
}

/** Why the figures may still change: the month is open, or too little of it was measured. */
export function preliminaryReasons(period: Interval, now: EpochMs, coverage: Coverage): string[] {
  const reasons: string[] = [];
  if (now < period.end) reasons.push("the month has not ended");
  if (coverage.ratio !== null && coverage.ratio < FINAL_COVERAGE_RATIO) {
    reasons.push(`probe coverage is under ${FINAL_COVERAGE_RATIO * 100}%`);
  }
  return reasons;
}
