import { ALERT } from "../export/alerting-rules.js";
import { availabilityHints, latencyHints } from "../export/runbook.js";
import { type CategoryId, categoryInScope, type SloConfig } from "../model/config.js";
import { DIAGNOSTIC_CATEGORY, type ProbeResult } from "../model/result.js";
import type { CategorySnapshot, SloSnapshot, SloWindow, WindowFigures } from "../model/snapshot.js";
import { DAY_MS, type EpochMs, HOUR_MS, isoUtc, monthInterval, monthOf } from "../model/time.js";
import type { ProbeValidity } from "../model/validity.js";
import {
  type BurnRateWindow,
  isCancelled,
  MULTI_WINDOW_ALERTS,
  type MultiWindowAlert,
  projectedExhaustion,
  qualifyMaintenanceWindows,
} from "../slo/index.js";
import { type AlertAnnotations, type AlertCondition, type AlertLabels, alertKey } from "./types.js";

/** Alert names: the Prometheus rules' ones where the agent checks the same thing, and its own. */
export const AGENT_ALERT = {
  ...ALERT,
  budgetExhaustion: "SLOErrorBudgetExhaustionProjected",
  coverage: "SLOProbeCoverageLow",
  merchantSide: "SLOMeasurementMerchantSide",
  agentErrors: "SLOMeasurementAgentErrors",
  authFailed: "SLOMeasurementAuthFailed",
  targetUnreached: "SLOMeasurementTargetUnreached",
  tlsCertificate: "SLOTlsCertificateExpiring",
  diagnostic: "SLODiagnosticFailing",
} as const;

/** Measurement-validity episodes of a category (contract section 8) an alert is raised for. */
type ValidityEpisodes = Required<
  Pick<ProbeValidity, "merchantSide" | "agentErrors" | "authFailed" | "targetUnreached">
>;

export interface AlertInput {
  readonly snapshot: SloSnapshot;
  /** Per category: recorded / expected probe runs since the agent started; absent when unknown. */
  readonly coverage?: ReadonlyMap<CategoryId, number>;
  /**
   * Burn rate of a category over a burn-rate window, for windows the snapshot does not carry
   * (the 2h short window); without it, only the snapshot's windows are read.
   */
  readonly burnRate?: (category: CategoryId, window: BurnRateWindow) => number | null;
  /**
   * The oldest result the figures rest on (null: none yet). The month's budget is projected only
   * once there is a day of data: minutes of a fresh store extrapolate to nonsense.
   */
  readonly measuredSince?: EpochMs | null;
  /** The latest result of each tls, dns and tcp probe (contract section 18); absent: none. */
  readonly diagnostics?: readonly ProbeResult[];
  /** Why the agent refuses to sign its evidence (src/record/store.ts, signingRefusal); null or absent: it signs. */
  readonly evidenceRefusal?: string | null;
}

const VALIDITY: readonly { key: keyof ValidityEpisodes; alertname: string; what: string }[] = [
  {
    key: "merchantSide",
    alertname: AGENT_ALERT.merchantSide,
    what: "the agent's own network (controls failing too) loses requests: they are excluded as merchant_side",
  },
  {
    key: "agentErrors",
    alertname: AGENT_ALERT.agentErrors,
    what: "requests fail inside the agent (agent_error): they are excluded, nothing is measured",
  },
  {
    key: "authFailed",
    alertname: AGENT_ALERT.authFailed,
    what: "the provider answers 401/403 (auth_failed): the probes' credentials are wrong or expired",
  },
  {
    key: "targetUnreached",
    alertname: AGENT_ALERT.targetUnreached,
    what: "a probe's target never answered under its configuration (target_unreached): its failures are excluded; check its URL, host name and port",
  },
];

/** The vendor error-code hints the generated Prometheus rules carry, by alertname. */
const HINTS: Readonly<Record<string, () => string>> = {
  [ALERT.burn]: availabilityHints,
  [ALERT.maintenanceOverrun]: availabilityHints,
  [AGENT_ALERT.budgetExhaustion]: availabilityHints,
  [ALERT.latency]: latencyHints,
};

/** How long after a window's announced end failures still count as it running over. */
const OVERRUN_HORIZON_MS = HOUR_MS;

/** Every condition that holds at snapshot.at, one per alert identity (labels). */
export function alertConditions(config: SloConfig, input: AlertInput): AlertCondition[] {
  const now = input.snapshot.at;
  const muting = activeMaintenance(config, now);
  const found = new Map<string, AlertCondition>();
  const validity = validityByCategory(input.snapshot.validity ?? []);
  for (const category of input.snapshot.categories) {
    const ctx = new CategoryContext(config, category, muting(category.category), input.burnRate);
    for (const row of MULTI_WINDOW_ALERTS) ctx.burn(row);
    ctx.latency(config.alerting.latencyWindow);
    const since = input.measuredSince;
    if (since === undefined || (since !== null && now - since >= DAY_MS)) ctx.budget(now);
    const coverage = input.coverage?.get(category.category);
    if (coverage !== undefined && coverage < config.alerting.coverageBelow) ctx.coverage(coverage);
    const episodes = validity.get(category.category);
    for (const v of VALIDITY) if (episodes?.[v.key]) ctx.validity(v.alertname, v.what);
    for (const window of config.maintenance.windows) {
      if (isCancelled(window)) continue;
      const overrun = now >= window.end && now < window.end + OVERRUN_HORIZON_MS;
      if (overrun && categoryInScope(window.categories, category.category))
        ctx.overrun(window.id, window.end);
    }
    for (const condition of ctx.conditions) found.set(condition.key, condition);
  }
  for (const condition of diagnosticConditions(config, input.diagnostics ?? []))
    found.set(condition.key, condition);
  if (input.evidenceRefusal) {
    const condition = evidenceCondition(config);
    found.set(condition.key, condition);
  }
  return inhibitTicketsUnderPages([...found.values()]);
}

/** The tls reasons that are the certificate's lifetime, alerted as SLOTlsCertificateExpiring. */
const EXPIRY_REASONS: ReadonlySet<unknown> = new Set(["cert_expiring", "cert_expired"]);

/**
 * A diagnostic probe whose latest run failed (a certificate under min_days, a broken chain, a
 * name that does not resolve, a port that refuses): one ticket per probe, never an SLA alert.
 * A failure inside the agent (agent_error) is the agent's, and alerted as such elsewhere.
 */
function diagnosticConditions(config: SloConfig, latest: readonly ProbeResult[]): AlertCondition[] {
  const configured = new Set(
    config.probes.filter((p) => p.category === DIAGNOSTIC_CATEGORY).map((p) => p.id),
  );
  const base = config.alerting.runbookBaseUrl;
  return latest
    .filter((r) => configured.has(r.probe) && r.error !== null && !r.flags?.includes("agent_error"))
    .map((r) => {
      const expiry = EXPIRY_REASONS.has(r.observed?.reason);
      const alertname = expiry ? AGENT_ALERT.tlsCertificate : AGENT_ALERT.diagnostic;
      const labels: AlertLabels = {
        alertname,
        severity: "ticket",
        category: DIAGNOSTIC_CATEGORY,
        service_class: "diagnostic",
        region: config.agent.region,
        probe: r.probe,
      };
      const annotations: AlertAnnotations = {
        summary: `${r.probe} (region ${config.agent.region}): ${r.detail ?? r.error}`,
        description: expiry
          ? "The certificate expires in fewer days than the probe's min_days (or has expired): renew it before clients refuse it."
          : "A diagnostic of the network path failed; it is not an SLA figure (docs/probes.md).",
        ...(base === null ? {} : { runbook_url: `${base}/${alertname}` }),
      };
      return { key: alertKey(labels), labels, annotations, inhibitedBy: null };
    });
}

/**
 * The agent refuses to sign its evidence (a rollback under it, records it did not write, no key):
 * the Prometheus rule's page, raised by the agent too, since whoever rolled the store back may stop
 * the agent before anyone reads its log (docs/evidence-store.md, "A rollback under a running agent").
 */
function evidenceCondition(config: SloConfig): AlertCondition {
  const base = config.alerting.runbookBaseUrl;
  const alertname = AGENT_ALERT.evidenceUnsigned;
  const labels: AlertLabels = {
    alertname,
    severity: "page",
    category: "all",
    service_class: "all",
    region: config.agent.region,
  };
  const annotations: AlertAnnotations = {
    summary: `The slo-agent of region ${config.agent.region} refuses to sign its evidence`,
    description:
      "The agent no longer signs what it records: the evidence store went back under it (records deleted and an " +
      "older checkpoint restored), holds records it did not write, or its signing key is missing. " +
      "Verify and the monthly report fail until the store is examined; the agent's log and /status say why.",
    hints:
      "Read the agent's error log line 'not signing the evidence' and its /status; run slo-agent verify; " +
      "keep a copy of the data directory before anything else (docs/evidence-store.md, section A rollback under a running agent).",
    ...(base === null ? {} : { runbook_url: `${base}/${alertname}` }),
  };
  return { key: alertKey(labels), labels, annotations, inhibitedBy: null };
}

/**
 * Alertmanager's usual inhibit rule: while a `page` of a category holds, that category's `ticket`
 * alerts are not sent (one outage, one page); they keep their states and are sent if they still
 * hold once the page is gone. A maintenance window's muting is kept as it is.
 */
function inhibitTicketsUnderPages(conditions: readonly AlertCondition[]): AlertCondition[] {
  const paging = new Map<string, string>();
  for (const c of conditions) {
    if (c.labels.severity === "page" && c.inhibitedBy === null && !paging.has(c.labels.category))
      paging.set(c.labels.category, `${c.labels.alertname} (page)`);
  }
  return conditions.map((c) => {
    const page = paging.get(c.labels.category);
    return c.labels.severity === "ticket" && c.inhibitedBy === null && page !== undefined
      ? { ...c, inhibitedBy: page }
      : c;
  });
}

/** A category is in an episode while any of its probes is. */
function validityByCategory(probes: readonly ProbeValidity[]): Map<CategoryId, ValidityEpisodes> {
  const byCategory = new Map<CategoryId, ValidityEpisodes>();
  for (const p of probes) {
    const seen = byCategory.get(p.category);
    byCategory.set(p.category, {
      merchantSide: p.merchantSide || (seen?.merchantSide ?? false),
      agentErrors: p.agentErrors || (seen?.agentErrors ?? false),
      authFailed: p.authFailed || (seen?.authFailed ?? false),
      targetUnreached: (p.targetUnreached ?? false) || (seen?.targetUnreached ?? false),
    });
  }
  return byCategory;
}

/** The qualifying maintenance window covering a category right now, by id (first in start order). */
function activeMaintenance(config: SloConfig, now: number): (category: CategoryId) => string | null {
  const running = qualifyMaintenanceWindows(config.maintenance.windows, config.maintenance.policy).filter(
    (q) => q.qualifyingEnd !== null && q.window.start <= now && now < q.qualifyingEnd,
  );
  return (category) => running.find((q) => categoryInScope(q.window.categories, category))?.window.id ?? null;
}

class CategoryContext {
  readonly conditions: AlertCondition[] = [];
  readonly #config: SloConfig;
  readonly #category: CategorySnapshot;
  readonly #inhibitedBy: string | null;
  readonly #burnRate: AlertInput["burnRate"];

  constructor(
    config: SloConfig,
    category: CategorySnapshot,
    inhibitedBy: string | null,
    burnRate: AlertInput["burnRate"],
  ) {
    this.#config = config;
    this.#category = category;
    this.#inhibitedBy = inhibitedBy;
    this.#burnRate = burnRate;
  }

  #burnOver(window: BurnRateWindow): number | null {
    const figures = this.#window(window);
    if (figures) return figures.burnRate;
    return this.#burnRate?.(this.#category.category, window) ?? null;
  }

  /** Both windows over the factor, as in the generated Prometheus rule (one table for both). */
  burn(row: MultiWindowAlert): void {
    const long = this.#burnOver(row.long);
    const short = this.#burnOver(row.short);
    if (long === null || short === null || long <= row.factor || short <= row.factor) return;
    this.#add(
      {
        alertname: ALERT.burn,
        severity: row.severity,
        slo: "availability",
        long_window: row.long,
        short_window: row.short,
      },
      `${this.#name} burns its error budget at ${long.toFixed(1)}x over ${row.long} (and ${short.toFixed(1)}x over ${row.short})`,
      `Above ${row.factor}x over both windows: at this pace ${row.budgetSpent * 100}% of a 30-day budget is gone within ${row.long}.`,
      true,
    );
  }

  latency(window: SloWindow): void {
    const p99 = this.#window(window)?.latencyP99Ms ?? null;
    const objective = this.#category.latencyObjectiveMs;
    if (p99 === null || p99 <= objective) return;
    this.#add(
      { alertname: ALERT.latency, severity: "ticket", slo: "latency" },
      `${this.#name} p99 latency over ${window} is ${Math.round(p99)} ms, above its ${objective} ms objective`,
      `The 99th percentile of response times over the last ${window} exceeds the category's objective.`,
      true,
    );
  }

  /** The month's budget runs out before the month ends at the last day's burn rate. */
  budget(now: number): void {
    const month = this.#window("month");
    if (!month || month.requests === 0) return;
    const { start, end } = monthInterval(monthOf(now));
    const at = projectedExhaustion({
      target: this.#category.availabilityTarget,
      requests: month.requests,
      served: month.served,
      monthStart: start,
      monthEnd: end,
      now,
      recentBurnRate: this.#window("1d")?.burnRate ?? null,
    });
    if (at === null) return;
    this.#add(
      { alertname: AGENT_ALERT.budgetExhaustion, severity: "ticket", slo: "availability" },
      `${this.#name} is projected to spend its month's error budget by ${isoUtc(at)}`,
      "At the last day's burn rate the error budget runs out before the month ends: the monthly availability target will be missed.",
      true,
    );
  }

  coverage(ratio: number): void {
    const below = this.#config.alerting.coverageBelow;
    this.#add(
      { alertname: AGENT_ALERT.coverage, severity: "ticket" },
      `${this.#name} probe coverage is ${(ratio * 100).toFixed(1)}%, below ${(below * 100).toFixed(1)}%`,
      "Fewer probe runs were recorded than scheduled (skipped, throttled or failed runs): the evidence for this category is thin.",
      true,
    );
  }

  validity(alertname: string, what: string): void {
    this.#add(
      { alertname, severity: "ticket" },
      `${this.#name}: ${what}`,
      "A measurement problem, not the provider's unavailability (docs/alerts.md).",
      false,
    );
  }

  overrun(windowId: string, end: number): void {
    if ((this.#window("5m")?.burnRate ?? 0) <= 1) return;
    this.#add(
      { alertname: ALERT.maintenanceOverrun, severity: "ticket", slo: "availability", maintenance: windowId },
      `${this.#name} still fails after maintenance ${windowId} was announced to end at ${isoUtc(end)}`,
      "The window's announced end has passed and the category still burns budget (5m burn rate > 1): this downtime counts against the SLA.",
      false,
    );
  }

  get #name(): string {
    return `${this.#category.category} (${this.#category.serviceClass}, region ${this.#config.agent.region})`;
  }

  #window(window: SloWindow | string): WindowFigures | undefined {
    return this.#category.windows.find((w) => w.window === window);
  }

  #add(
    extra: Record<string, string> & { alertname: string; severity: string },
    summary: string,
    description: string,
    inhibitable: boolean,
  ): void {
    const labels: AlertLabels = {
      ...extra,
      category: this.#category.category,
      service_class: this.#category.serviceClass,
      region: this.#config.agent.region,
    };
    const base = this.#config.alerting.runbookBaseUrl;
    const hints = HINTS[extra.alertname]?.();
    const annotations: AlertAnnotations = {
      summary,
      description,
      ...(base === null ? {} : { runbook_url: `${base}/${extra.alertname}` }),
      ...(hints === undefined ? {} : { hints }),
    };
    const inhibitedBy = inhibitable ? this.#inhibitedBy : null;
    this.conditions.push({ key: alertKey(labels), labels, annotations, inhibitedBy });
  }
}
