import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { slo } from "../reports/cli-run.js";
import { CLI } from "../support/cli.js";
import { eventually } from "../support/eventually.js";
import { type Running, startProcess } from "../support/processes.js";

/**
 * What the declared-maintenance agent suites share (contract section 14): the real agent probing a
 * loopback target in an outage under a slo.yaml with declared windows, then `report` and the
 * bundle's recompute.py on what it recorded.
 */

export interface MaintenancePolicy {
  readonly minNoticeDays: number;
  readonly maxOccasionsPerYear: number;
  readonly maxHoursPerYear: number;
}

/** A declared window; the times are ISO strings, as slo.yaml holds them. */
export interface DeclaredWindow {
  readonly id: string;
  readonly start: string;
  readonly end: string;
  readonly announcedAt: string;
}

/** One probe `pay` (payment_request, every second) against `down` at `targetUrl`, with the given maintenance. */
export function maintenanceConfig(
  agentId: string,
  targetUrl: string,
  policy: MaintenancePolicy,
  windows: readonly DeclaredWindow[],
): string {
  const declared = windows.map(
    (w) =>
      `    - {id: ${w.id}, start: "${w.start}", end: "${w.end}", announced_at: "${w.announcedAt}", categories: [all]}`,
  );
  // max_stall_ms at its largest: on a loaded CI box the stall guard (50 ms by default) flagged a
  // result agent_error now and then, an automatic exclusion the suites' counts of maintenance
  // exclusions did not expect (feed-components-edit failed so, "expected 1 to be 0").
  return `version: 1
agent: {id: ${agentId}, region: test, listen: 127.0.0.1:0, data_dir: ./evidence, max_stall_ms: 1000}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
maintenance:
  policy: {min_notice_days: ${policy.minNoticeDays}, max_occasions_per_year: ${policy.maxOccasionsPerYear}, max_hours_per_year: ${policy.maxHoursPerYear}}
  windows:${declared.length === 0 ? " []" : `\n${declared.join("\n")}`}
targets:
  down: {base_url: "${targetUrl}", environment: simulator, auth: {type: none}}
probes:
  - {id: pay, category: payment_request, target: down, every: 1s, path: /pay, timeout_ms: 2000}
sla:
  provider: Example PSP
  credits: [{below_pct: 99.0, credit_pct: 10}]
`;
}

/** The provider's outage (a loopback target answering every request 503) and a data directory for the agent. */
export interface Outage {
  readonly targetUrl: string;
  readonly dir: string;
  /** `dir`/slo.yaml, the configuration the agent runs on. */
  readonly file: string;
  close(): Promise<void>;
}

export async function openOutage(dirPrefix: string): Promise<Outage> {
  const target = createServer((_req, res) => res.writeHead(503).end("down"));
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  const dir = await mkdtemp(join(tmpdir(), dirPrefix));
  return {
    targetUrl: `http://127.0.0.1:${(target.address() as AddressInfo).port}`,
    dir,
    file: join(dir, "slo.yaml"),
    async close() {
      await new Promise((r) => target.close(r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `slo-agent run` on the outage's slo.yaml, logging JSON lines on stderr. */
export function startAgent(outage: Outage): Running {
  return startProcess(
    process.execPath,
    [CLI, "run", "--config", outage.file, "--log-format", "json"],
    outage.dir,
  );
}

/** The agent's /metrics text once `ready` holds for it. */
export function metricsWhen(
  agent: Running,
  url: string,
  ready: (text: string) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<string> {
  return eventually(
    async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return ready(text) ? text : undefined;
    },
    timeoutMs,
    what,
    { context: agent.output },
  );
}

/** JSON log lines (stderr) with the given msg. */
export function logged(agent: Running, msg: string): Record<string, unknown>[] {
  return agent
    .stderr()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

/** SIGHUP, then wait until the agent logs that it reloaded its configuration. */
export async function reload(agent: Running): Promise<void> {
  agent.child.kill("SIGHUP");
  await eventually(
    () => (logged(agent, "configuration reloaded").length > 0 ? true : undefined),
    30_000,
    "reload logged",
    { context: agent.output },
  );
}

/** The value of the first line of `name{...}` holding every given label, or undefined. */
export function metric(text: string, name: string, ...labels: string[]): number | undefined {
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`${name}{`) && labels.every((label) => l.includes(label)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** `report` of `month` in `format` on the outage's store; it must exit 0 with every record verified. */
export function report(outage: Outage, month: string, format: string, sloYaml = outage.file): string {
  const run = slo(["report", "--config", sloYaml, "--month", month, "--format", format], outage.dir);
  expect(run.stderr).not.toContain("did not verify");
  expect(run.code).toBe(0);
  return run.stdout;
}

/**
 * Exports the month's bundle (from `sloYaml`) and runs its recompute.py, which must give
 * payment_request the figures report.json states. Returns report.json and the export's stderr.
 */
export async function recomputeBundle(
  outage: Outage,
  month: string,
  sloYaml = outage.file,
): Promise<{ stated: unknown; exportStderr: string }> {
  const run = slo(
    ["evidence", "export", "--config", sloYaml, "--month", month, "--out", "bundle"],
    outage.dir,
  );
  expect(run.code, run.stderr).toBe(0);
  const bundle = join(outage.dir, "bundle");
  const recompute = spawnSync("python3", ["recompute.py"], {
    cwd: bundle,
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(recompute.stderr).toBe("");
  expect(recompute.status).toBe(0);
  const figures = JSON.parse(recompute.stdout) as { categories: Record<string, unknown>[] };
  const stated = JSON.parse(await readFile(join(bundle, "report.json"), "utf8")) as {
    categories: Record<string, unknown>[];
  };
  const pay = stated.categories.find((c) => c.category === "payment_request")!;
  const mine = figures.categories.find((c) => c.category === "payment_request")!;
  for (const [field, value] of Object.entries(mine)) expect([field, value]).toEqual([field, pay[field]]);
  return { stated, exportStderr: run.stderr };
}

/**
 * Requests of `category` a report excluded as agent_error: a stall of the agent under a loaded
 * machine may exclude one (rightly); these suites check that maintenance excluded nothing else.
 */
export function agentErrors(report: object, category: string): number {
  const rows = (
    report as { automatic_exclusions?: { reason: string; categories: string[]; requests: number }[] }
  ).automatic_exclusions;
  return (rows ?? [])
    .filter((x) => x.reason === "agent_error" && x.categories.includes(category))
    .reduce((sum, x) => sum + x.requests, 0);
}

/** Requests of probe `probe` that /metrics counts as excluded for an agent stall (agent_error). */
export function agentErrorsOnMetrics(text: string, probe: string): number {
  return (
    metric(text, "slo_probe_automatic_exclusions_total", `probe="${probe}"`, 'reason="agent_error"') ?? 0
  );
}

/** A loopback Statuspage serving `entries()` as they are at each reading, counting its readings. */
export interface Statuspage {
  readonly url: string;
  reads(): number;
  close(): Promise<void>;
}

export async function startStatuspage(entries: () => readonly object[]): Promise<Statuspage> {
  let reads = 0;
  const server = createServer((_req, res) => {
    reads++;
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ page: { id: "p" }, scheduled_maintenances: entries() }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reads: () => reads,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The feed-remap suites' slo.yaml: a notice policy of 0 days (the window qualifies within
 * seconds), a feed at `feedUrl` mapping "Payments API" to `payments` and "Web" to a second
 * category, webhooks.
 */
export function remapConfig(agentId: string, targetUrl: string, feedUrl: string, payments: string): string {
  return maintenanceConfig(
    agentId,
    targetUrl,
    { minNoticeDays: 0, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
    [],
  )
    .replace(
      "\n  windows:",
      `\n  feed: {url: "${feedUrl}", every: 1m, components: {"Payments API": [${payments}], "Web": [webhooks]}}\n  windows:`,
    )
    .replace(
      "\ncategories:\n",
      "\ncategories:\n  webhooks: {title: Webhooks, service_class: transaction_critical, latency_p99_ms: 1500}\n",
    );
}

/** The requests of probe "pay" that /metrics counts as excluded. */
export const payExcluded = (text: string) =>
  metric(text, "slo_probe_requests_total", 'probe="pay"', 'outcome="excluded"') ?? 0;

/** The requests of probe "pay" that /metrics counts as failed (the provider's). */
export const payFailed = (text: string) =>
  metric(text, "slo_probe_requests_total", 'probe="pay"', 'outcome="failed"') ?? 0;

/** A Statuspage scheduled maintenance entry as the feed reads it (status "scheduled" unless given). */
export function scheduledMaintenance(entry: {
  readonly id: string;
  readonly createdAt: number;
  readonly start: number;
  readonly end: number;
  readonly components?: readonly { id: string; name: string }[];
  readonly status?: string;
}): object {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: entry.id,
    name: "Planned",
    status: entry.status ?? "scheduled",
    created_at: iso(entry.createdAt),
    updated_at: iso(entry.createdAt),
    scheduled_for: iso(entry.start),
    scheduled_until: iso(entry.end),
    impact: "maintenance",
    components: entry.components ?? [],
    incident_updates: [],
  };
}
