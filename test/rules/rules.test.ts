import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/config/index.js";
import { renderRules } from "../../src/export/rules.js";
import { CLI } from "../support/cli.js";

const HERE = import.meta.dirname;
const SHIPPED_CONFIG = join(HERE, "../../slo.yaml");
// Under fixtures/ so that formatters leave the generated YAML byte for byte as generated.
const GOLDEN = join(HERE, "fixtures/slo-rules.golden.yml");
const UNIT_TESTS = readdirSync(HERE)
  .filter((f) => f.endsWith(".test.yml"))
  .sort();
const scratch = mkdtempSync(join(tmpdir(), "slo-rules-"));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function promtool(args: string[], cwd = HERE): { status: number | null; output: string } {
  const run = spawnSync("promtool", args, { cwd, encoding: "utf8", timeout: 180_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

async function shippedRules(): Promise<string> {
  const { config } = await loadConfig(SHIPPED_CONFIG, { env: {} });
  return renderRules(config);
}

describe("rules generated from the shipped slo.yaml", () => {
  it("match the golden file (UPDATE_GOLDEN=1 rewrites it)", async () => {
    const rules = await shippedRules();
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, rules);
    expect(rules).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("are generated the same way twice (deterministic order)", async () => {
    expect(await shippedRules()).toBe(await shippedRules());
  });

  it("pass promtool check rules", () => {
    const check = promtool(["check", "rules", GOLDEN]);
    expect(check.output).toMatch(/SUCCESS/);
    expect(check.status).toBe(0);
  });

  it("give every alert severity, category and service_class (from the series or the rule) and hints", () => {
    const file = parse(readFileSync(GOLDEN, "utf8")) as {
      groups: {
        rules: {
          alert?: string;
          expr: string;
          labels?: Record<string, string>;
          annotations?: Record<string, string>;
        }[];
      }[];
    };
    const alerts = file.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) {
      expect(alert.labels?.severity, alert.alert).toMatch(/^(page|ticket)$/);
      const fromSeries = !/absent_over_time/.test(alert.expr);
      if (!fromSeries)
        expect(Object.keys(alert.labels ?? {})).toEqual(
          expect.arrayContaining(["category", "service_class"]),
        );
      // The shipped slo.yaml names no runbook_base_url: no placeholder runbook_url, the hints say what to check.
      expect(Object.keys(alert.annotations ?? {}).sort(), alert.alert).toEqual([
        "description",
        "hints",
        "summary",
      ]);
    }
  });
});

describe("slo-agent rules on the command line", () => {
  const cli = (args: string[]) =>
    // The built CLI users run (test/global-build.ts builds it); through tsx it cost twice the CPU.
    spawnSync(process.execPath, [CLI, "rules", ...args], {
      cwd: join(HERE, "../.."),
      encoding: "utf8",
      timeout: 60_000,
    });

  it("--out writes the same rules the golden file holds", { timeout: 60_000 }, () => {
    const out = join(scratch, "out.yml");
    const run = cli(["--config", SHIPPED_CONFIG, "--out", out]);
    expect(run.status).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("--format prometheus-operator writes a PrometheusRule holding the rule file's groups", {
    timeout: 60_000,
  }, () => {
    const out = join(scratch, "rule.yaml");
    const run = cli(["--config", SHIPPED_CONFIG, "--format", "prometheus-operator", "--out", out]);
    expect(run.status).toBe(0);
    const resource = parse(readFileSync(out, "utf8")) as {
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      spec: { groups: unknown };
    };
    expect([resource.apiVersion, resource.kind, resource.metadata.name]).toEqual([
      "monitoring.coreos.com/v1",
      "PrometheusRule",
      "slo-agent",
    ]);
    expect(resource.spec.groups).toEqual(parse(readFileSync(GOLDEN, "utf8")).groups);
  });

  it("an unknown --format is bad usage: exit 2, no rules", { timeout: 60_000 }, () => {
    const run = cli(["--config", SHIPPED_CONFIG, "--format", "thanos"]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/--format.*thanos.*(prometheus, prometheus-operator|choices)/s);
  });

  it("a configuration that does not exist is bad input: exit 2, one line, no rules", {
    timeout: 60_000,
  }, () => {
    const run = cli(["--config", join(scratch, "missing.yaml")]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("promtool unit tests of the rules (test/rules/*.test.yml)", () => {
  for (const file of UNIT_TESTS) {
    it(`${file} passes`, { timeout: 240_000 }, () => {
      const run = promtool(["test", "rules", file]);
      expect(run.output).toMatch(/SUCCESS/);
      expect(run.status).toBe(0);
    });
  }

  it("a wrong expectation fails (the harness can fail)", { timeout: 120_000 }, () => {
    const wrong = join(scratch, "wrong.test.yml");
    writeFileSync(
      wrong,
      [
        `rule_files: [${JSON.stringify(GOLDEN)}]`,
        "evaluation_interval: 1m",
        "tests:",
        "  - interval: 1m",
        "    input_series: []",
        "    alert_rule_test:",
        "      - eval_time: 15m",
        "        alertname: SLOAgentNoData",
        "        exp_alerts: []",
      ].join("\n"),
    );
    const run = promtool(["test", "rules", wrong], scratch);
    expect(run.output).toMatch(/FAILED/);
    expect(run.status).not.toBe(0);
  });
});
