/**
 * The agent under a real Prometheus: `slo-agent demo` scraped every second with the generated
 * rules loaded. Every dashboard and rule expression must return data, a scripted outage must fire
 * the fast-burn page, and a live scrape must pass `promtool check metrics`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ALERT } from "../../src/export/alerting-rules.js";
import {
  DASHBOARD_FILES,
  dashboardExpressions,
  dashboardVariableQueries,
  substituteVariables,
} from "../../src/export/dashboards.js";
import { RECORDED } from "../../src/export/names.js";
import { promtoolCheckMetrics } from "../export/exposition.js";
import {
  eventually,
  instantQuery,
  type Running,
  sleep,
  startProcess,
  startPrometheus,
} from "../export/live-processes.js";
import { runCliSync } from "../support/cli.js";

const REPO = join(import.meta.dirname, "../..");
const CLI = join(REPO, "dist/cli/main.js");
const SECOND = 1000;

/** Grafana's variables with "All" selected and a rate window several scrapes long. */
const VARIABLES = {
  region: ".*",
  category: ".*",
  probe: ".*",
  __rate_interval: "1m",
  __range: "5m",
  __interval: "15s",
};

/**
 * Expressions that legitimately return nothing in a healthy two-minute run. They must still parse.
 * Alerts are conditions that hold only when something is wrong; the annotations mark maintenance
 * (none is configured) and firing burn-rate alerts (none before the outage).
 */
const MAY_BE_EMPTY = {
  alerts: new Set<string>(Object.values(ALERT)),
  annotations: new Set(["annotation Maintenance", "annotation Burn-rate alerts"]),
};

interface RuleFile {
  groups: { rules: { record?: string; alert?: string; expr: string }[] }[];
}

let dir: string;
let demo: Running | null = null;
let prometheus: { url: string; process: Running } | null = null;
let agentUrl: string;
let simulatorUrl: string;
let rules: RuleFile;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-e2e-prometheus-"));
  // Users run the built package (test/global-build.ts builds dist/ once before every suite).
  if (!existsSync(CLI)) throw new Error(`no ${CLI}: run npm run build`);

  const generated = runCliSync(["rules"], { cwd: REPO });
  if (generated.code !== 0) throw new Error(`slo-agent rules failed: ${generated.stderr}`);
  writeFileSync(join(dir, "rules.yml"), generated.stdout);
  rules = parse(generated.stdout) as RuleFile;

  demo = startProcess(
    process.execPath,
    [CLI, "demo", "--listen", "127.0.0.1:0", "--data-dir", join(dir, "data"), "--every", "1s"],
    REPO,
  );
  agentUrl = await demo.listening(60 * SECOND);
  simulatorUrl = await demo.simulator(10 * SECOND);
  prometheus = await startPrometheus(dir, new URL(agentUrl).host, join(dir, "rules.yml"));

  // Every configured category has been probed and the longest-window rule has two samples to rate.
  const categories = rules.groups
    .flatMap((g) => g.rules)
    .filter((r) => r.record === RECORDED.target("category")).length;
  await eventually(
    async () => {
      const answer = await instantQuery(
        prometheus!.url,
        `count(${RECORDED.availability("category", "30d")})`,
      );
      const count = Number(
        (answer.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1] ?? 0,
      );
      return count >= categories ? count : null;
    },
    120 * SECOND,
    `availability of all ${categories} categories recorded`,
  );
}, 240 * SECOND);

afterAll(async () => {
  await prometheus?.process.stop();
  await demo?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60 * SECOND);

async function emptyOrError(expr: string): Promise<string | null> {
  const answer = await instantQuery(prometheus!.url, expr);
  if (answer.status !== "success") return `error: ${answer.error}`;
  return answer.data!.result.length === 0 ? "no data" : null;
}

/**
 * The agent refreshes its SLO gauges every ~10 s, so a figure may appear a little after the
 * counters do: check again until nothing is missing, or report what still is after a minute.
 */
async function settledProblems(check: () => Promise<string[]>): Promise<string[]> {
  const deadline = Date.now() + 60 * SECOND;
  for (;;) {
    const problems = await check();
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await sleep(2 * SECOND);
  }
}

describe("slo-agent demo under a real Prometheus", { timeout: 240 * SECOND }, () => {
  it("generated rules pass promtool check rules", () => {
    const check = spawnSync("promtool", ["check", "rules", join(dir, "rules.yml")], { encoding: "utf8" });
    expect(`${check.stdout}${check.stderr}`).toMatch(/SUCCESS/);
  });

  it("every recording rule returns data, and every alert expression parses", async () => {
    const all = rules.groups.flatMap((g) => g.rules);
    for (const alert of all.flatMap((r) => (r.alert === undefined ? [] : [r.alert]))) {
      expect(MAY_BE_EMPTY.alerts.has(alert), `${alert} is not on the may-be-empty list`).toBe(true);
    }
    const problems = await settledProblems(async () => {
      const found: string[] = [];
      for (const rule of all) {
        const problem = await emptyOrError(rule.expr);
        const allowedEmpty = rule.alert !== undefined && problem === "no data";
        if (problem && !allowedEmpty) found.push(`${rule.record ?? rule.alert}: ${problem}`);
      }
      return found;
    });
    expect(problems).toEqual([]);
  });

  for (const [file, build] of Object.entries(DASHBOARD_FILES)) {
    it(`every PromQL expression of ${file} returns data`, async () => {
      const problems = await settledProblems(async () => {
        const found: string[] = [];
        for (const { where, expr } of dashboardExpressions(build())) {
          const problem = await emptyOrError(substituteVariables(expr, VARIABLES));
          const allowedEmpty = MAY_BE_EMPTY.annotations.has(where) && problem === "no data";
          if (problem && !allowedEmpty) found.push(`${where}: ${problem}: ${expr}`);
        }
        return found;
      });
      expect(problems).toEqual([]);
    });

    it(`every template variable of ${file} offers values`, async () => {
      for (const { name, metric, label } of dashboardVariableQueries(build())) {
        const match = substituteVariables(metric, VARIABLES);
        const response = await fetch(
          `${prometheus!.url}/api/v1/label/${label}/values?${new URLSearchParams({ "match[]": match })}`,
        );
        const answer = (await response.json()) as { data: string[] };
        expect(answer.data.length, `variable ${name}`).toBeGreaterThan(0);
      }
    });
  }

  it("a total outage of payment_request fires the fast-burn page (1h/5m at 14.4x)", async () => {
    const patch = await fetch(`${simulatorUrl}/__sim/scenario/categories/payment_request`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ error_rate: 1 }),
    });
    expect(patch.status).toBeLessThan(300);
    const alert = await eventually(
      async () => {
        const response = await fetch(`${prometheus!.url}/api/v1/alerts`);
        const answer = (await response.json()) as {
          data: { alerts: { labels: Record<string, string>; state: string }[] };
        };
        return (
          answer.data.alerts.find(
            (a) =>
              a.state === "firing" &&
              a.labels.alertname === ALERT.burn &&
              a.labels.category === "payment_request" &&
              a.labels.long_window === "1h" &&
              a.labels.short_window === "5m",
          ) ?? null
        );
      },
      150 * SECOND,
      "SLOErrorBudgetBurn 1h/5m firing for payment_request",
    );
    expect(alert.labels).toMatchObject({
      severity: "page",
      service_class: "transaction_critical",
      region: "eu",
    });
  });

  it("a live scrape passes promtool check metrics", async () => {
    const text = await (await fetch(`${agentUrl}/metrics`)).text();
    expect(text).toContain('outcome="failed"');
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: "" });
  });
});
