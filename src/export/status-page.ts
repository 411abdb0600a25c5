import type { MaintenanceWindow } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import type { CategorySnapshot, SloSnapshot } from "../model/snapshot.js";
import { DAY_MS, isoUtc } from "../model/time.js";
import type { ProbeValidity } from "../model/validity.js";

/** A firing alert as the status page shows it (src/alerts provides them). */
export interface FiringAlert {
  readonly name: string;
  readonly category: string;
  readonly severity: string;
  readonly since: number;
  /** What it says now (for a burn-rate alert: the burn rates over its windows). */
  readonly summary?: string;
  /** The burn-rate pair of a burn-rate alert ("1h", "5m"); absent for other alerts. */
  readonly windows?: { readonly long: string; readonly short: string };
}

/** A category's merchant requests of the month to date, by outcome (as slo_traffic_requests_total counts them). */
export interface TrafficCounts {
  readonly requests: number;
  readonly served: number;
  readonly failed: number;
  readonly clientSide: number;
}

export interface StatusPageModel {
  readonly snapshot: SloSnapshot;
  readonly titles: ReadonlyMap<string, string>;
  readonly maintenance: readonly MaintenanceWindow[];
  readonly alerts: readonly FiringAlert[];
  readonly failures: readonly ProbeResult[];
  /** Whether the agent signs its evidence: why it refuses, and the rollback it found under it (absent: not shown). */
  readonly evidence?: EvidenceStanding;
  /** The latest result of each tls, dns and tcp probe (never SLA figures); absent or empty: not shown. */
  readonly diagnostics?: readonly ProbeResult[];
  /** Per category, minutes of the month to date inside merchant_side episodes (the report's figure). */
  readonly merchantSideMinutes?: ReadonlyMap<string, number>;
  /** Each probe's current measurement validity (slo_probe_valid); the invalid ones are listed. */
  readonly validity?: readonly ProbeValidity[];
  /** Per category, the month to date's merchant requests (contract section 19); only with traffic: configured. */
  readonly traffic?: ReadonlyMap<string, TrafficCounts>;
  /** A category's burn rate over a burn-rate window ("2h" too); null when unknown. */
  readonly burnRate?: (category: string, window: string) => number | null;
  readonly version: string;
}

/** The evidence store as the agent last checked it (src/record/store.ts, signingRefusal and rollbackDetected). */
export interface EvidenceStanding {
  readonly refusal: string | null;
  readonly rollback: { readonly seq: number; readonly at: number } | null;
}

const UPCOMING_MS = 30 * DAY_MS;

const STYLE = `body{font:15px/1.4 system-ui,sans-serif;margin:0;padding:12px;color:#1b1b1b;background:#fafafa}
h1{font-size:1.3em;margin:0 0 4px}h2{font-size:1.1em;margin:20px 0 8px}
.meta{color:#555;font-size:.9em}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px}
.card{background:#fff;border:1px solid #ddd;border-left:6px solid #2e7d32;border-radius:6px;padding:10px}.card h3{font-size:1em;margin:0 0 6px}
.card.page{border-color:#b00020;border-left-color:#b00020}.card.ticket,.card.breach{border-left-color:#e65100}
.ok{color:#17692b}.bad{color:#b00020}.row{display:flex;justify-content:space-between;gap:8px}
.bar{height:8px;background:#eee;border-radius:4px;overflow:hidden;margin:4px 0}.bar span{display:block;height:100%;background:#2e7d32}
.bar span.low{background:#c62828}.tag{font-size:.8em;padding:1px 6px;border-radius:8px;background:#fff3cd}
.sev{font-size:.75em;font-weight:700;padding:1px 6px;border-radius:8px;color:#fff;background:#2e7d32;text-transform:uppercase}
.sev.page{background:#b00020}.sev.ticket,.sev.breach{background:#e65100}
.banner{border-radius:6px;padding:10px 12px;margin:10px 0;background:#e8f5e9;border:1px solid #2e7d32}
.banner.bad{background:#fdecea;border-color:#b00020;color:#1b1b1b}.banner b{font-size:1.1em}.banner ol{margin:6px 0 0;padding-left:22px}
nav a{margin-right:10px}ul.alerts{padding-left:0;list-style:none}ul.alerts li{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;margin:0 0 6px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9em}td,th{border:1px solid #ddd;padding:4px 6px;text-align:left}
.scroll{overflow-x:auto}code{font-size:.9em;word-break:break-all}`;

/** Where a category stands, worst first: a page firing, a ticket firing, the month missing its objective, fine. */
type Standing = "page" | "ticket" | "breach" | "ok";
const RANK: Readonly<Record<Standing, number>> = { page: 0, ticket: 1, breach: 2, ok: 3 };

interface Assessed {
  readonly category: CategorySnapshot;
  readonly standing: Standing;
  /** Why, in a few words (empty when fine). */
  readonly reasons: readonly string[];
}

/**
 * The agent's /status: server-rendered, no script, no external asset, readable on a phone. It
 * leads with what is wrong: a banner naming the categories that miss their SLO or alert (worst
 * first), the firing alerts with their windows and burn rates, then the cards in that order.
 */
export function renderStatusPage(model: StatusPageModel): string {
  const { snapshot } = model;
  const now = snapshot.at;
  const assessed = snapshot.categories
    .map((c, i) => ({ ...assess(c, model.alerts), order: i }))
    .sort(
      (a, b) =>
        RANK[a.standing] - RANK[b.standing] ||
        (a.category.errorBudgetRemaining ?? 1) - (b.category.errorBudgetRemaining ?? 1) ||
        a.order - b.order,
    );
  const title = (id: string) => model.titles.get(id) ?? id;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="30"><title>slo-agent status</title><style>${STYLE}</style></head>
<body><h1>slo-agent status</h1>
<nav><a href="/alerts">/alerts</a><a href="/metrics">/metrics</a><a href="/">endpoints</a></nav>
<p class="meta">At ${html(isoUtc(now))} · agent ${html(model.version)}</p>
${evidenceBanner(model.evidence)}${banner(assessed, title)}
<h2>Firing alerts</h2>${alertList(model.alerts, title, model.burnRate)}
<h2>Categories</h2><div class="cards">${assessed.map((a) => categoryCard(a, model.titles, model.merchantSideMinutes?.get(a.category.category) ?? 0, model.traffic === undefined ? null : (model.traffic.get(a.category.category) ?? NO_TRAFFIC))).join("")}</div>
<h2>Measurement problems</h2>${problemList(model.validity ?? [])}
<h2>Maintenance: now and the next 30 days</h2>${maintenanceList(model.maintenance, now)}
${diagnosticTable(model.diagnostics ?? [])}<h2>Latest failures</h2>${failureTable(model.failures)}
</body></html>
`;
}

function assess(c: CategorySnapshot, alerts: readonly FiringAlert[]): Assessed {
  const own = alerts.filter((a) => a.category === c.category);
  const reasons = own.map(
    (a) => `${a.name} firing${a.windows ? ` ${a.windows.long}/${a.windows.short}` : ""}`,
  );
  const month = c.windows.find((w) => w.window === "month");
  if (c.breach.availability)
    reasons.push(
      `month to date ${pct(month?.availability ?? null)} under the ${pct(c.availabilityTarget)} target`,
    );
  if (c.breach.latency && month?.latencyP99Ms != null)
    reasons.push(`p99 ${Math.round(month.latencyP99Ms)} ms over the ${c.latencyObjectiveMs} ms objective`);
  const standing: Standing = own.some((a) => a.severity === "page")
    ? "page"
    : own.length > 0
      ? "ticket"
      : c.breach.availability || c.breach.latency
        ? "breach"
        : "ok";
  return { category: c, standing, reasons };
}

/** First on the page: evidence the agent refuses to sign cannot back any figure below. */
function evidenceBanner(evidence: EvidenceStanding | undefined): string {
  if (evidence === undefined || evidence.refusal === null) return "";
  const rollback = evidence.rollback
    ? ` The agent found the store gone back under it at ${html(isoUtc(evidence.rollback.at))} and left input record seq ${evidence.rollback.seq} (<code>rollback_detected</code>) unsigned.`
    : "";
  return `<div class="banner bad" role="alert"><b>Evidence not signed: verify and reports fail until the store is examined.</b>${rollback}<br>${html(evidence.refusal)}</div>
`;
}

function banner(assessed: readonly Assessed[], title: (id: string) => string): string {
  const wrong = assessed.filter((a) => a.standing !== "ok");
  if (wrong.length === 0)
    return `<div class="banner" role="status"><b>All ${assessed.length} categories meet their SLO</b>; no alert is firing.</div>`;
  return `<div class="banner bad" role="alert"><b>${wrong.length} of ${assessed.length} categories missing their SLO or alerting</b>, worst first:
<ol>${wrong.map((a) => `<li><span class="sev ${a.standing}">${a.standing}</span> <b>${html(title(a.category.category))}</b>: ${html(a.reasons.join("; "))}</li>`).join("")}</ol></div>`;
}

function categoryCard(
  a: Assessed,
  titles: ReadonlyMap<string, string>,
  merchantSide: number,
  traffic: TrafficCounts | null,
): string {
  const c = a.category;
  const month = c.windows.find((w) => w.window === "month");
  const hour = c.windows.find((w) => w.window === "1h");
  const p99 = month?.latencyP99Ms ?? null;
  const budget = c.errorBudgetRemaining;
  const width = budget === null ? 0 : Math.max(0, Math.min(1, budget)) * 100;
  return `<section class="card ${a.standing}" data-standing="${a.standing}"><h3><span class="sev ${a.standing}">${a.standing}</span> ${html(titles.get(c.category) ?? c.category)} <small>${html(c.category)}</small>
${c.maintenanceActive ? ' <span class="tag">maintenance</span>' : ""}</h3>
<div class="row"><span>Month to date</span><b class="${c.breach.availability ? "bad" : "ok"}">${pct(month?.availability ?? null)}</b></div>
<div class="row"><span>Last hour</span><b>${pct(hour?.availability ?? null)}</b></div>
<div class="row"><span>Target</span><span>${pct(c.availabilityTarget)}</span></div>
<div class="row"><span>p99 / objective</span><b class="${c.breach.latency ? "bad" : "ok"}">${p99 === null ? "–" : `${Math.round(p99)} ms`} / ${c.latencyObjectiveMs} ms</b></div>
<div class="row"><span>Error budget left</span><span>${budget === null ? "–" : `${(budget * 100).toFixed(1)}%`}</span></div>
<div class="bar" role="img" aria-label="error budget left"><span class="${width < 25 ? "low" : ""}" style="width:${width.toFixed(1)}%"></span></div>
<div class="meta">${month?.requests ?? 0} requests this month, ${month?.excluded ?? 0} excluded; ${merchantSide.toFixed(2)} min excluded as merchant_side</div>${traffic === null ? "" : trafficLine(traffic)}</section>`;
}

const NO_TRAFFIC: TrafficCounts = { requests: 0, served: 0, failed: 0, clientSide: 0 };

/** The merchant requests of the month to date, as slo_traffic_requests_total counts them. */
function trafficLine(t: TrafficCounts): string {
  return `<div class="meta">Merchant requests this month: ${t.requests} (${t.served} served, ${t.failed} failed, ${t.clientSide} client_side)</div>`;
}

/** Why a probe's latest result does not measure the provider, in the report's words. */
const PROBLEM_LINES: readonly [keyof ProbeValidity, string][] = [
  [
    "targetUnreached",
    "target_unreached: neither its target (host and port) nor an address tried has ever answered, and requests make no connection (check URL, host name, port); its failures are excluded, not the provider's",
  ],
  ["agentErrors", "agent_error: requests fail inside the agent; excluded"],
  ["authFailed", "auth_failed: 401/403 not expected (credentials?)"],
  ["unexpectedStatus", "unexpected_status: a status outside expect"],
];

function problemList(validity: readonly ProbeValidity[]): string {
  const items = validity.flatMap((v) =>
    PROBLEM_LINES.filter(([key]) => v[key] === true).map(
      ([, line]) => `<li><b>${html(v.probe)}</b> (${html(v.category)}): ${html(line)}</li>`,
    ),
  );
  return items.length === 0 ? "<p>None.</p>" : `<ul>${items.join("")}</ul>`;
}

/**
 * A declared window that stands on an announced_at older than the agent's log (contract section
 * 14, "before_log"): marked unverified, as every report format marks it.
 */
function unverifiedTag(w: MaintenanceWindow): string {
  if (w.declaredNotice?.check !== "before_log") return "";
  return `<span class="tag" title="announced before this agent's log began: the log cannot show it was announced then">unverified</span> `;
}

/** Running windows and those starting within 30 days, soonest first. */
function maintenanceList(windows: readonly MaintenanceWindow[], now: number): string {
  const shown = windows
    .filter((w) => now < w.end && w.start < now + UPCOMING_MS)
    .sort((a, b) => a.start - b.start);
  if (shown.length === 0) return "<p>None running or announced for the next 30 days.</p>";
  return `<ul>${shown
    .map(
      (w) =>
        `<li>${w.start <= now ? '<span class="tag">running now</span> ' : ""}${unverifiedTag(w)}<b>${html(w.id)}</b> ${html(isoUtc(w.start))} – ${html(isoUtc(w.end))}, ${html(w.categories === "all" ? "all categories" : w.categories.join(", "))}${w.description ? `: ${html(w.description)}` : ""}</li>`,
    )
    .join("")}</ul>`;
}

/** Pages first, then tickets, each oldest first; with windows and burn rates where they apply. */
function alertList(
  alerts: readonly FiringAlert[],
  title: (id: string) => string,
  burnRate: StatusPageModel["burnRate"],
): string {
  if (alerts.length === 0) return "<p>None.</p>";
  const sorted = [...alerts].sort(
    (a, b) => Number(a.severity !== "page") - Number(b.severity !== "page") || a.since - b.since,
  );
  const rates = (a: FiringAlert) => {
    if (a.windows === undefined) return "";
    const over = (w: string) => {
      const rate = burnRate?.(a.category, w) ?? null;
      return `${rate === null ? "–" : `${rate.toFixed(1)}×`} over ${html(w)}`;
    };
    return `<div>Burn rate ${over(a.windows.long)}, ${over(a.windows.short)}</div>`;
  };
  return `<ul class="alerts">${sorted
    .map(
      (a) =>
        `<li><span class="sev ${html(a.severity)}">${html(a.severity)}</span> <b>${html(a.name)}</b>${a.windows ? ` (${html(a.windows.long)}/${html(a.windows.short)})` : ""} · ${html(title(a.category))} <small>${html(a.category)}</small> · since ${html(isoUtc(a.since))}${rates(a)}${a.summary ? `<div class="meta">${html(a.summary)}</div>` : ""}</li>`,
    )
    .join("")}</ul>`;
}

function failureTable(failures: readonly ProbeResult[]): string {
  if (failures.length === 0) return "<p>None recorded since the agent started.</p>";
  const rows = failures
    .map(
      (f) =>
        `<tr><td>${html(isoUtc(f.ts))}</td><td>${html(f.category)}</td><td>${html(f.probe)}</td><td>${f.status ?? html(f.error ?? "")}</td><td><code>${html(f.errorCode ?? "")}</code></td><td><code>${html(f.correlationId ?? "")}</code></td></tr>`,
    )
    .join("");
  return `<div class="scroll"><table><thead><tr><th>Time (UTC)</th><th>Category</th><th>Probe</th><th>Status / error</th><th>Error code</th><th>Correlation id</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The network-path diagnostics, one row per probe: its latest run, never an SLA figure. */
function diagnosticTable(latest: readonly ProbeResult[]): string {
  if (latest.length === 0) return "";
  const rows = [...latest]
    .sort((a, b) => (a.probe < b.probe ? -1 : 1))
    .map((r) => {
      const state = r.error === null ? '<b class="ok">ok</b>' : `<b class="bad">${html(r.error)}</b>`;
      const kind = typeof r.observed?.kind === "string" ? r.observed.kind : "";
      return `<tr><td>${html(r.probe)}</td><td>${html(kind)}</td><td>${state}</td><td>${html(r.detail ?? "")}</td><td>${html(isoUtc(r.ts))}</td></tr>`;
    })
    .join("");
  return `<h2>Diagnostics</h2><div class="scroll"><table><thead><tr><th>Probe</th><th>Kind</th><th>Latest</th><th>Detail</th><th>At (UTC)</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function pct(value: number | null): string {
  return value === null ? "–" : `${(value * 100).toFixed(3)}%`;
}

function html(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** `/`: the endpoints this agent serves. */
export function renderIndexPage(version: string): string {
  const links: readonly [string, string][] = [
    ["/status", "status page: every category's SLO figures, maintenance, alerts, latest failures"],
    ["/alerts", "the agent's own alerts and each receiver's queue, as JSON"],
    ["/metrics", "Prometheus metrics"],
    ["/healthz", "liveness"],
    ["/readyz", "readiness"],
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>slo-agent</title><style>${STYLE}</style></head>
<body><h1>slo-agent ${html(version)}</h1><ul>${links.map(([href, what]) => `<li><a href="${href}">${href}</a> – ${html(what)}</li>`).join("")}
<li><code>POST /-/reload</code> – reload the configuration (Authorization: Bearer agent.admin_token)</li></ul></body></html>
`;
}
