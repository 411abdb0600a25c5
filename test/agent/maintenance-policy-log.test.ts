import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slo } from "../reports/cli-run.js";
import { eventually } from "../support/eventually.js";
import { startProcess } from "../support/processes.js";

/**
 * Contract section 14, the maintenance policy (ATTACK-24b, findings 2 and 3): the real agent
 * probes a loopback target in an outage under min_notice_days 7; a reload (SIGHUP) loosens it to
 * 0 and adds window mwp starting 3 s later. The month is judged by the policy the log held when it
 * began, so mwp is late_notice and the outage counts, with the change named in every format and in
 * recompute.py. A policy only in the slo.yaml given to `report` is not applied and is named.
 */

const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();
// The month the test runs in; a run across a month boundary would judge by the new month's policy.
const MONTH = iso(T0).slice(0, 7);

function config(targetUrl: string, minNoticeDays: number, windows: { id: string; start: number }[]): string {
  const declared = windows.map(
    (w) =>
      `    - {id: ${w.id}, start: "${iso(w.start)}", end: "${iso(w.start + HOUR)}", announced_at: "${iso(w.start - 3_000)}", categories: [all]}`,
  );
  return `version: 1
agent: {id: policy-1, region: test, listen: 127.0.0.1:0, data_dir: ./evidence}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
maintenance:
  policy: {min_notice_days: ${minNoticeDays}, max_occasions_per_year: 5, max_hours_per_year: 15}
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

/** The agent's probe requests of probe pay with the given outcome ("" for all). */
const requests = (text: string, outcome = "") =>
  text
    .split("\n")
    .filter((l) => l.startsWith("slo_probe_requests_total{") && l.includes('probe="pay"'))
    .filter((l) => l.includes(`outcome="${outcome}`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);

type Report = {
  maintenance: {
    windows: Record<string, unknown>[];
    policy: { min_notice_days: number };
    policy_changes?: { loaded_at: string; min_notice_days: number }[];
  };
  categories: { category: string; requests: number; excluded: number }[];
  warnings?: string[];
};

describe("a maintenance policy loosened by a reload mid-outage (contract section 14)", {
  timeout: 240_000,
}, () => {
  let target: Server;
  let targetUrl: string;
  let dir: string;
  const file = () => join(dir, "slo.yaml");
  let reloadedAt = 0;
  let checkConfigStderr = "";
  let metricsAfter = "";
  let agentLog = "";

  beforeAll(async () => {
    target = createServer((_req, res) => res.writeHead(503).end("down"));
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), "slo-policy-log-"));
    await writeFile(file(), config(targetUrl, 7, []));
    const agent = startProcess(
      process.execPath,
      [MAIN, "run", "--config", file(), "--log-format", "json"],
      dir,
    );
    try {
      const url = await agent.listening(30_000);
      const metrics = async () => (await fetch(`${url}/metrics`)).text();
      await eventually(async () => (requests(await metrics()) >= 3 ? true : undefined), 30_000, "probed", {
        context: agent.output,
      });
      reloadedAt = Date.now();
      await writeFile(file(), config(targetUrl, 0, [{ id: "mwp", start: reloadedAt + 3_000 }]));
      checkConfigStderr = slo(["check-config", "--config", file()], dir).stderr;
      agent.child.kill("SIGHUP");
      await eventually(
        () => (agent.stderr().includes('"configuration reloaded"') ? true : undefined),
        30_000,
        "reload logged",
        { context: agent.output },
      );
      // Past mwp's start: requests the loosened policy would hide.
      await eventually(
        async () => (Date.now() > reloadedAt + 6_000 && requests(await metrics()) >= 10 ? true : undefined),
        60_000,
        "probed into the window",
        { context: agent.output },
      );
      metricsAfter = await metrics();
      agentLog = agent.stderr();
    } finally {
      await agent.stop();
    }
  }, 150_000);

  afterAll(async () => {
    await new Promise((r) => target?.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function report(format: string, sloYaml = file()) {
    const run = slo(["report", "--config", sloYaml, "--month", MONTH, "--format", format], dir);
    expect(run.code).toBe(0);
    return run.stdout;
  }

  function checkJudgedByEarlierPolicy(r: Report) {
    expect(r.maintenance.windows.find((w) => w.id === "mwp")).toMatchObject({
      qualified: false,
      reason: "late_notice",
    });
    expect(r.categories.find((c) => c.category === "payment_request")!.excluded).toBe(0);
    expect(r.maintenance.policy.min_notice_days).toBe(7);
    expect(r.maintenance.policy_changes).toEqual([
      {
        loaded_at: expect.any(String),
        min_notice_days: 0,
        max_occasions_per_year: 5,
        max_hours_per_year: 15,
      },
    ]);
    const loadedAt = Date.parse(r.maintenance.policy_changes![0]!.loaded_at);
    expect(loadedAt).toBeGreaterThanOrEqual(reloadedAt - 1_000);
  }

  const CHANGED =
    /the maintenance policy changed on .* to at least 0 days(?:'|&#39;) notice, .*: the month is judged by the policy in force when it began \(at least 7 days(?:'|&#39;) notice/;

  it("check-config warns that the loosened policy is looser than the SLA's terms", () => {
    expect(checkConfigStderr).toMatch(
      /maintenance\.policy\.min_notice_days: warning: looser than the SLA's published terms \(7 days(?:'|&#39;) notice\)/,
    );
  });

  it("the reload logs that the policy change judges from the next month", () => {
    expect(agentLog).toContain('"msg":"maintenance policy changed: it judges from the next month');
  });

  it("/metrics counts the outage inside the window as failed, none of it excluded", () => {
    expect(requests(metricsAfter, "excluded")).toBe(0);
    expect(requests(metricsAfter, "failed")).toBeGreaterThanOrEqual(10);
  });

  it("a mid-month loosening does not let the window qualify, and the change is shown in every format", () => {
    const r = JSON.parse(report("json")) as Report;
    checkJudgedByEarlierPolicy(r);
    expect(r.warnings).toEqual(expect.arrayContaining([expect.stringMatching(CHANGED)]));
    for (const format of ["markdown", "html", "csv"]) expect(report(format)).toMatch(CHANGED);
  });

  it("a policy only in the slo.yaml given to report is not applied, and is named", async () => {
    const reportOnly = join(dir, "report-only.yaml");
    await writeFile(reportOnly, config(targetUrl, 1, [{ id: "mwp", start: reloadedAt + 3_000 }]));
    const r = JSON.parse(report("json", reportOnly)) as Report;
    checkJudgedByEarlierPolicy(r);
    const named =
      /the maintenance policy given now \(at least 1 days(?:'|&#39;) notice, .*\) is none the agent(?:'|&#39;)s log holds for the month: not applied/;
    expect(r.warnings).toEqual(expect.arrayContaining([expect.stringMatching(named)]));
    for (const format of ["markdown", "html", "csv"]) expect(report(format, reportOnly)).toMatch(named);
  });

  it("recompute.py judges the month by the bundle's logged policy, not config.json's", async () => {
    const reportOnly = join(dir, "report-only.yaml");
    await writeFile(reportOnly, config(targetUrl, 0, [{ id: "mwp", start: reloadedAt + 3_000 }]));
    const run = slo(["evidence", "export", "--config", reportOnly, "--month", MONTH, "--out", "bundle"], dir);
    expect(run.code).toBe(0);
    const bundle = join(dir, "bundle");
    const recompute = spawnSync("python3", ["recompute.py"], {
      cwd: bundle,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(recompute.stderr).toBe("");
    expect(recompute.status).toBe(0);
    const stated = JSON.parse(await readFile(join(bundle, "report.json"), "utf8")) as Report;
    checkJudgedByEarlierPolicy(stated);
    const figures = JSON.parse(recompute.stdout) as { categories: Record<string, unknown>[] };
    const pay = stated.categories.find((c) => c.category === "payment_request") as Record<string, unknown>;
    const mine = figures.categories.find((c) => c.category === "payment_request")!;
    for (const [field, value] of Object.entries(mine)) expect([field, value]).toEqual([field, pay[field]]);
  });
});
