import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slo } from "../reports/cli-run.js";
import { eventually } from "../support/eventually.js";
import { type Running, startProcess } from "../support/processes.js";

/**
 * Contract section 14 for a declared window the log first holds late (ATTACK-24, second attack,
 * finding 1): the real agent probes a loopback target in an outage; a reload (SIGHUP) adds a new
 * window mw2 over the running outage, announced_at 30 days back. Its notice counts from that load
 * (the log's configuration record), so it is late_notice and the outage counts -- in /metrics, in
 * every report format and in recompute.py. A window only in the slo.yaml given to `report` (never
 * loaded) counts from the report's generated_at (finding 2); one in the log's first configuration
 * keeps its announced_at but is reported unverified when its verdict rests on it.
 */

const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();
const MONTH = iso(T0).slice(0, 7);
const ANNOUNCED = iso(T0 - 30 * DAY);
/** Over the outage: from before the agent started to well after the test. */
const OUTAGE = { start: iso(T0 - 600_000), end: iso(T0 + HOUR) };
/** In the first configuration, inside this month, sooner than the notice period: no probe runs in it. */
const soonStart = iso(T0 + 3 * HOUR).slice(0, 7) === MONTH ? T0 + 2 * HOUR : T0 - 3 * HOUR;
const SOON = { start: iso(soonStart), end: iso(soonStart + HOUR) };

type Window = { id: string; start: string; end: string };

function config(targetUrl: string, windows: Window[]): string {
  const declared = windows
    .map(
      (w) =>
        `    - {id: ${w.id}, start: "${w.start}", end: "${w.end}", announced_at: "${ANNOUNCED}", categories: [all]}`,
    )
    .join("\n");
  return `version: 1
agent: {id: added-1, region: test, listen: 127.0.0.1:0, data_dir: ./evidence}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
maintenance:
  policy: {min_notice_days: 7, max_occasions_per_year: 6, max_hours_per_year: 40}
  windows:
${declared}
targets:
  down: {base_url: "${targetUrl}", environment: simulator, auth: {type: none}}
probes:
  - {id: pay, category: payment_request, target: down, every: 1s, path: /pay, timeout_ms: 2000}
sla:
  provider: Example PSP
  credits: [{below_pct: 99.0, credit_pct: 10}]
`;
}

/** JSON log lines (stderr) with the given msg. */
function logged(run: Running, msg: string): Record<string, unknown>[] {
  return run
    .stderr()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

/** The value of the first line of `name{...}` holding every given label, or undefined. */
function metric(text: string, name: string, ...labels: string[]): number | undefined {
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`${name}{`) && labels.every((label) => l.includes(label)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

const outcome = (text: string, name: string) =>
  metric(text, "slo_probe_requests_total", 'probe="pay"', `outcome="${name}"`) ?? 0;

describe("a declared window added by a reload over an outage (contract section 14)", {
  timeout: 240_000,
}, () => {
  let target: Server;
  let targetUrl: string;
  let dir: string;
  const file = () => join(dir, "slo.yaml");
  let reloadedAt = 0;
  let metricsAfter = "";

  beforeAll(async () => {
    // The provider's outage: every request answered 503.
    target = createServer((_req, res) => res.writeHead(503).end("down"));
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), "slo-declared-added-"));
    await writeFile(file(), config(targetUrl, [{ id: "mw0", ...SOON }]));
    const agent = startProcess(
      process.execPath,
      [MAIN, "run", "--config", file(), "--log-format", "json"],
      dir,
    );
    try {
      const url = await agent.listening(30_000);
      await eventually(
        async () => (outcome(await (await fetch(`${url}/metrics`)).text(), "failed") >= 3 ? true : undefined),
        30_000,
        "probed three times",
        { context: agent.output },
      );
      await writeFile(
        file(),
        config(targetUrl, [
          { id: "mw0", ...SOON },
          { id: "mw2", ...OUTAGE },
        ]),
      );
      reloadedAt = Date.now();
      agent.child.kill("SIGHUP");
      await eventually(
        () => (logged(agent, "configuration reloaded").length > 0 ? true : undefined),
        30_000,
        "reload logged",
        { context: agent.output },
      );
      // The operator is told the added window counts as announced now.
      expect(
        logged(agent, "declared maintenance added: it counts as announced now, not from its announced_at"),
      ).toEqual([expect.objectContaining({ level: "warn", windows: ["mw2"] })]);
      const failedAtReload = outcome(await (await fetch(`${url}/metrics`)).text(), "failed");
      metricsAfter = await eventually(
        async () => {
          const text = await (await fetch(`${url}/metrics`)).text();
          return outcome(text, "failed") >= failedAtReload + 3 ? text : undefined;
        },
        30_000,
        "probed three times after the reload",
        { context: agent.output },
      );
    } finally {
      await agent.stop();
    }
  }, 120_000);

  afterAll(async () => {
    await new Promise((r) => target?.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function report(format: string, slo_yaml = file()) {
    const run = slo(["report", "--config", slo_yaml, "--month", MONTH, "--format", format], dir);
    expect(run.stderr).not.toContain("did not verify");
    expect(run.code).toBe(0);
    return run.stdout;
  }

  type Report = {
    maintenance: { windows: Record<string, unknown>[] };
    categories: { category: string; requests: number; successful: number; excluded: number }[];
    warnings?: string[];
  };

  function checkReport(r: Report) {
    const windows = r.maintenance.windows.filter((w) => w.id === "mw2");
    expect(windows).toHaveLength(1);
    expect(windows[0]).toMatchObject({
      qualified: false,
      reason: "late_notice",
      declared_announced_at: ANNOUNCED,
      declared_notice: "loaded_later",
    });
    const history = windows[0]!.history as { seen_at: string; start: string }[];
    expect(history).toHaveLength(1);
    const seen = Date.parse(history[0]!.seen_at);
    expect(seen).toBeGreaterThanOrEqual(reloadedAt - 1_000);
    expect(seen).toBeLessThan(reloadedAt + 30_000);
    expect(windows[0]!.announced_at).toBe(history[0]!.seen_at);
    const pay = r.categories.find((c) => c.category === "payment_request")!;
    // Every request of the outage counts against the provider; none is hidden by the window.
    expect(pay.excluded).toBe(0);
    expect(pay.requests).toBeGreaterThanOrEqual(6);
    expect(pay.successful).toBe(0);
    // mw0 was in the first configuration the agent loaded: it keeps its announced_at, unverified.
    expect(r.maintenance.windows.find((w) => w.id === "mw0")).toMatchObject({
      qualified: true,
      announced_at: ANNOUNCED,
      declared_notice: "before_log",
    });
    expect(r.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^maintenance window mw0 qualifies on its declared announced_at .* unverified/),
      ]),
    );
  }

  it("/metrics counts the outage after the reload as failed, none of it excluded", () => {
    expect(outcome(metricsAfter, "excluded")).toBe(0);
  });

  it("the JSON report judges the added window from the reload: late_notice, the outage counted", () => {
    checkReport(JSON.parse(report("json")) as Report);
  });

  it("Markdown and HTML say the window's notice counts from when the log first holds it", () => {
    const line =
      /mw2 is declared announced .*, but this agent(?:'|&#39;)s log shows it announced no earlier than .*: its notice counts from then\./;
    expect(report("markdown")).toMatch(line);
    expect(report("html")).toMatch(line);
  });

  it("a window only in the slo.yaml given to report counts from generated_at, with a warning", async () => {
    const reportOnly = join(dir, "report-only.yaml");
    await writeFile(
      reportOnly,
      config(targetUrl, [
        { id: "mw0", ...SOON },
        { id: "mw2", ...OUTAGE },
        { id: "mw3", ...OUTAGE },
      ]),
    );
    const r = JSON.parse(report("json", reportOnly)) as Report & { generated_at: string };
    expect(r.maintenance.windows.find((w) => w.id === "mw3")).toMatchObject({
      qualified: false,
      reason: "late_notice",
      announced_at: r.generated_at,
      declared_notice: "not_loaded",
    });
    expect(r.categories.find((c) => c.category === "payment_request")!.excluded).toBe(0);
    expect(r.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^maintenance window mw3 is in no configuration this agent loaded/),
      ]),
    );
  });

  it("recompute.py gives the report's figures from the bundle's configuration records", async () => {
    const run = slo(["evidence", "export", "--config", file(), "--month", MONTH, "--out", "bundle"], dir);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const bundle = join(dir, "bundle");
    const recompute = spawnSync("python3", ["recompute.py"], {
      cwd: bundle,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(recompute.stderr).toBe("");
    expect(recompute.status).toBe(0);
    const figures = JSON.parse(recompute.stdout) as { categories: Record<string, unknown>[] };
    const stated = JSON.parse(await readFile(join(bundle, "report.json"), "utf8")) as Report;
    checkReport(stated);
    const pay = stated.categories.find((c) => c.category === "payment_request") as Record<string, unknown>;
    const mine = figures.categories.find((c) => c.category === "payment_request")!;
    for (const [field, value] of Object.entries(mine)) expect([field, value]).toEqual([field, pay[field]]);
  });
});
