import type { MaintenanceWindow } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import type { CategorySnapshot, SloSnapshot } from "../model/snapshot.js";
import { isoUtc } from "../model/time.js";
import type { ProbeValidity } from "../model/validity.js";

/** A firing alert as the status page shows it (src/alerts provides them; none until it does). */
export interface FiringAlert {
  readonly name: string;
  readonly category: string;
  readonly severity: string;
  readonly since: number;
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
  /** The latest result of each tls, dns and tcp probe (never SLA figures); absent or empty: not shown. */
  readonly diagnostics?: readonly ProbeResult[];
  /** Per category, minutes of the month to date inside merchant_side episodes (the report's figure). */
  readonly merchantSideMinutes?: ReadonlyMap<string, number>;
  /** Each probe's current measurement validity (slo_probe_valid); the invalid ones are listed. */
  readonly validity?: readonly ProbeValidity[];
  /** Per category, the month to date's merchant requests (contract section 19); only with traffic: configured. */
  readonly traffic?: ReadonlyMap<string, TrafficCounts>;
  readonly version: string;
}

const STYLE = `body{font:15px/1.4 system-ui,sans-serif;margin:0;padding:12px;color:#1b1b1b;background:#fafafa}
h1{font-size:1.3em;margin:0 0 4px}h2{font-size:1.1em;margin:20px 0 8px}
.meta{color:#555;font-size:.9em}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px}.card h3{font-size:1em;margin:0 0 6px}
.ok{color:#17692b}.bad{color:#b00020}.row{display:flex;justify-content:space-between;gap:8px}
.bar{height:8px;background:#eee;border-radius:4px;overflow:hidden;margin:4px 0}.bar span{display:block;height:100%;background:#2e7d32}
.bar span.low{background:#c62828}.tag{font-size:.8em;padding:1px 6px;border-radius:8px;background:#fff3cd}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9em}td,th{border:1px solid #ddd;padding:4px 6px;text-align:left}
.scroll{overflow-x:auto}code{font-size:.9em;word-break:break-all}`;

/** The agent's /status: server-rendered, no script, no external asset, readable on a phone. */
export function renderStatusPage(model: StatusPageModel): string {
  const { snapshot } = model;
  const now = snapshot.at;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="30"><title>slo-agent status</title><style>${STYLE}</style></head>
<body><h1>slo-agent status</h1>
<p class="meta">At ${html(isoUtc(now))} · agent ${html(model.version)} · <a href="/">endpoints</a> · <a href="/metrics">/metrics</a></p>
<h2>Categories</h2><div class="cards">${snapshot.categories.map((c) => categoryCard(c, model.titles, model.merchantSideMinutes?.get(c.category) ?? 0, model.traffic === undefined ? null : (model.traffic.get(c.category) ?? NO_TRAFFIC))).join("")}</div>
<h2>Measurement problems</h2>${problemList(model.validity ?? [])}
<h2>Active maintenance</h2>${maintenanceList(model.maintenance, now)}
<h2>Firing alerts</h2>${alertList(model.alerts)}
${diagnosticTable(model.diagnostics ?? [])}<h2>Latest failures</h2>${failureTable(model.failures)}
</body></html>
`;
}

function categoryCard(
  c: CategorySnapshot,
  titles: ReadonlyMap<string, string>,
  merchantSide: number,
  traffic: TrafficCounts | null,
): string {
  const month = c.windows.find((w) => w.window === "month");
  const hour = c.windows.find((w) => w.window === "1h");
  const p99 = month?.latencyP99Ms ?? null;
  const budget = c.errorBudgetRemaining;
  const width = budget === null ? 0 : Math.max(0, Math.min(1, budget)) * 100;
  return `<section class="card"><h3>${html(titles.get(c.category) ?? c.category)} <small>${html(c.category)}</small>
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
    "target_unreached: its target has not answered once under this configuration (check URL, host name, port); its failures are excluded, not the provider's",
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

function maintenanceList(windows: readonly MaintenanceWindow[], now: number): string {
  const active = windows.filter((w) => w.start <= now && now < w.end);
  if (active.length === 0) return "<p>None.</p>";
  return `<ul>${active
    .map(
      (w) =>
        `<li><b>${html(w.id)}</b> ${html(isoUtc(w.start))} – ${html(isoUtc(w.end))}, ${html(w.categories === "all" ? "all categories" : w.categories.join(", "))}${w.description ? `: ${html(w.description)}` : ""}</li>`,
    )
    .join("")}</ul>`;
}

function alertList(alerts: readonly FiringAlert[]): string {
  if (alerts.length === 0) return "<p>None.</p>";
  return `<ul>${alerts
    .map(
      (a) =>
        `<li><b>${html(a.name)}</b> ${html(a.category)} (${html(a.severity)}) since ${html(isoUtc(a.since))}</li>`,
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
    ["/metrics", "Prometheus metrics"],
    ["/healthz", "liveness"],
    ["/readyz", "readiness"],
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>slo-agent</title><style>${STYLE}</style></head>
<body><h1>slo-agent ${html(version)}</h1><ul>${links.map(([href, what]) => `<li><a href="${href}">${href}</a> – ${html(what)}</li>`).join("")}
<li><code>POST /-/reload</code> – reload the configuration (Authorization: Bearer agent.admin_token)</li></ul></body></html>
`;
}
