// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the configuration under test holds ${NAME} references.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateResults, ndjsonLine } from "../record/results.js";

const ROOT = join(import.meta.dirname, "../..");
/** Built once for every suite by test/global-build.ts. */
const CLI = join(ROOT, "dist/cli/main.js");
const START = Date.UTC(2026, 9, 1);
const MONTH = "2026-10";

/**
 * Every value only `run` uses comes from the environment or a secret file: the target's
 * credentials (one of them a file mounted only where the agent runs), a probe's bearer header,
 * the admin and API tokens, an OTLP push header, a webhook's secret and a Slack URL.
 */
const SLO_YAML = `version: 1
agent:
  data_dir: ./evidence
  admin_token: "\${SLO_AGENT_ADMIN_TOKEN}"
  api_token: "\${SLO_AGENT_API_TOKEN}"
  otlp: {endpoint: "http://127.0.0.1:4318/v1/metrics", headers: {X-Api-Key: "\${OTLP_KEY}"}}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
  payment_confirmation: {title: Payment Confirmation, service_class: transaction_critical, latency_p99_ms: 1500}
targets:
  klarna:
    base_url: "https://api.playground.klarna.com"
    environment: playground
    auth: {type: basic, username: "\${KLARNA_USERNAME}", password_file: ./secrets/klarna-password}
alerting:
  receivers:
    - {id: ops-webhook, type: webhook, url: "https://hooks.example.test/slo", secret: "\${WEBHOOK_SECRET}"}
    - {id: ops-slack, type: slack, url: "\${SLACK_WEBHOOK_URL}"}
probes:
  - {id: payment-request-probe, category: payment_request, target: klarna, every: 30s, path: /payments/v1/sessions/0,
     headers: {Authorization: "Bearer \${PARTNER_TOKEN}"}}
  - {id: payment-confirmation-probe, category: payment_confirmation, target: klarna, every: 30s, path: /payments/v1/authorizations/0}
`;

const RUN_ONLY = [
  "SLO_AGENT_ADMIN_TOKEN",
  "SLO_AGENT_API_TOKEN",
  "OTLP_KEY",
  "KLARNA_USERNAME",
  "WEBHOOK_SECRET",
  "SLACK_WEBHOOK_URL",
  "PARTNER_TOKEN",
];
/** What a machine where the agent runs holds: every variable set, and the password file. */
const RUN_ENV = Object.fromEntries(RUN_ONLY.map((name) => [name, `value-of-${name.toLowerCase()}-1234`]));
RUN_ENV.SLACK_WEBHOOK_URL = "https://hooks.slack.example.test/services/T0/B0/secret-part";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI with only PATH and the given variables: no KLARNA_* or tokens from this machine. */
function cli(cwd: string, env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd, timeout: 120_000, env: { PATH: process.env.PATH ?? "", ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dir = "";
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-offline-"));
  writeFileSync(join(dir, "slo.yaml"), SLO_YAML);
  const lines = [...generateResults(START, 40)].map((r, i) =>
    ndjsonLine({
      ...r,
      probe: i % 2 === 0 ? "payment-request-probe" : "payment-confirmation-probe",
      category: i % 2 === 0 ? "payment_request" : "payment_confirmation",
    }),
  );
  writeFileSync(join(dir, "in.ndjson"), `${lines.join("\n")}\n`);
  const imported = await cli(dir, {}, "import", "in.ndjson");
  expect(imported.stderr).toBe("");
  expect(imported.code).toBe(0);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Nothing about the unset run-only values: no problem, no warning (the empty-username one included). */
function expectQuiet(run: Run): void {
  expect(run.stderr).not.toMatch(/not set|empty username|secret file|warning/i);
  expect(run.code, run.stderr).toBe(0);
}

describe("commands that never probe, with only the environment they need", () => {
  it("report works from the real store, with the fingerprint the agent's own environment gives", async () => {
    const offline = await cli(dir, {}, "report", "--month", MONTH, "--format", "json");
    expectQuiet(offline);
    const report = JSON.parse(offline.stdout);
    expect(report.evidence.verified).toBe(true);
    // The stand-ins are Secrets: the configuration's fingerprint is the one `run` would sign.
    const withEnv = await cli(dir, RUN_ENV, "report", "--month", MONTH, "--format", "json");
    expect(withEnv.code, withEnv.stderr).toBe(0);
    expect(report.evidence.statement.config_sha256).toBe(
      JSON.parse(withEnv.stdout).evidence.statement.config_sha256,
    );
  });

  it("verify, evidence export, rules and dashboards work", async () => {
    const verify = await cli(dir, {}, "verify");
    expectQuiet(verify);
    expect(verify.stdout).toMatch(/^ok: 40 records verified/m);
    expectQuiet(await cli(dir, {}, "verify", "--month", MONTH));
    const exported = await cli(dir, {}, "evidence", "export", "--month", MONTH, "--out", "bundle");
    expectQuiet(exported);
    expect(readFileSync(join(dir, "bundle", "records.ndjson"), "utf8").split("\n").length).toBeGreaterThan(
      40,
    );
    const rules = await cli(dir, {}, "rules");
    expectQuiet(rules);
    expect(rules.stdout).toMatch(/^groups:/m);
    expectQuiet(await cli(dir, {}, "dashboards", "--out", "dashboards"));
  });

  it("no stand-in reaches an output: no report or bundle holds one", async () => {
    const md = await cli(dir, {}, "report", "--month", MONTH, "--format", "md");
    expectQuiet(md);
    expect(md.stdout).not.toContain("used only by run");
    expect(md.stdout).not.toContain("run-only.invalid");
  });

  it("check-config still names every missing value, and run refuses to start", async () => {
    const check = await cli(dir, {}, "check-config");
    expect(check.code).toBe(2);
    for (const name of RUN_ONLY) expect(check.stderr).toContain(`${name} is not set`);
    expect(check.stderr).toMatch(/password_file: secret file "\.\/secrets\/klarna-password"/);
    const run = await cli(dir, {}, "run", "--listen", "127.0.0.1:0");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("WEBHOOK_SECRET is not set");
    expect(run.stderr).toContain("SLO_AGENT_ADMIN_TOKEN is not set");
    expect(run.stderr).toContain("KLARNA_USERNAME is not set");
  });
});
