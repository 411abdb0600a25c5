import { spawn } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Running, sleep, startProcess } from "../export/live-processes.js";

/**
 * Three agents (eu, na, oc), each its own process against its own simulator with other latency
 * and failures (`demo`), then served by `run` on the same stores (the probes' cron never fires, so
 * the evidence holds still): `report --from-agents` over the three must equal the report of all
 * their raw results pooled into one store through `evidence export` and `import`.
 */
const ROOT = join(import.meta.dirname, "../..");
const MAIN = join(ROOT, "dist/cli/main.js");
const TOKEN = "merge-test-token-7f3a9c2e51d4";
const REGIONS = [
  { region: "eu", median: 30, payments: 0, settlements: 0 },
  { region: "na", median: 90, payments: 0.3, settlements: 0 },
  { region: "oc", median: 160, payments: 0, settlements: 0.2 },
] as const;
const MONTH = new Date().toISOString().slice(0, 7);

function config(region: string): string {
  return [
    "version: 1",
    `agent: {region: ${region}, id: agent-${region}, listen: 127.0.0.1:0, api_token: "\${SLO_AGENT_API_TOKEN}"}`,
    "service_classes:",
    "  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}",
    "  transaction_non_critical: {title: Transactions Non-critical Services, availability_target_pct: 99.0}",
    "categories:",
    "  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 150}",
    "  settlements: {title: Settlements, service_class: transaction_non_critical, latency_p99_ms: 6000}",
    "targets:",
    "  klarna: {base_url: http://127.0.0.1:9}",
    "probes:",
    // Never on its own (January 1st, midnight): only demo's --every runs them.
    '  - {id: payment-request-read, category: payment_request, target: klarna, schedule: "0 0 0 1 1 *", method: GET, path: /payments/v1/sessions/00000000-0000-0000-0000-000000000000, timeout_ms: 2000}',
    '  - {id: settlements-payout-summary, category: settlements, target: klarna, schedule: "0 0 0 1 1 *", method: GET, path: "/settlements/v1/payouts/summary?start_date=2026-01-01T00:00:00Z&end_date=2026-01-02T00:00:00Z", timeout_ms: 2000}',
    "",
  ].join("\n");
}

function scenario(r: (typeof REGIONS)[number]): string {
  return [
    "version: 1",
    `name: ${r.region}`,
    "default:",
    `  latency: {median_ms: ${r.median}, sigma: 0.5}`,
    "categories:",
    `  payment_request: {error_rate: ${r.payments}, error_status: 503}`,
    `  settlements: {error_rate: ${r.settlements}, error_status: 503}`,
    "",
  ].join("\n");
}

interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Cli> {
  return new Promise((resolve) => {
    // The agents' configurations read agent.api_token from the environment, like a deployment's.
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, SLO_AGENT_API_TOKEN: TOKEN, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
const agents: Running[] = [];
const urls: string[] = [];
const dataDir = (region: string) => join(dir, region, "data");
const configFile = (region: string) => join(dir, region, "slo.yaml");

async function startAgents(command: "demo" | "run"): Promise<void> {
  const started = REGIONS.map((r) => {
    const extra =
      command === "demo" ? ["--every", "100ms", "--scenario", join(dir, r.region, "scenario.yaml")] : [];
    const args = [MAIN, command, "--config", configFile(r.region), "--data-dir", dataDir(r.region)];
    return startProcess(process.execPath, [...args, "--listen", "127.0.0.1:0", ...extra], dir, {
      SLO_AGENT_API_TOKEN: TOKEN,
    });
  });
  agents.push(...started);
  const listening = await Promise.all(started.map((a) => a.listening(30_000)));
  urls.splice(0, urls.length, ...listening);
}

/** The agents' public keys, as an operator pins them (openssl pkey -pubout of each key file). */
async function pinKeys(): Promise<string> {
  const pems = await Promise.all(
    REGIONS.map(async (r) =>
      createPublicKey(await readFile(join(dataDir(r.region), "agent-signing-key.pem"), "utf8"))
        .export({ type: "spki", format: "pem" })
        .toString(),
    ),
  );
  const file = join(dir, "agents.pem");
  await writeFile(file, pems.join(""));
  return file;
}

/** payment_request's requests an agent has counted so far, from its /metrics. */
async function paymentRequests(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split("\n")
    .filter(
      (line) => line.startsWith("slo_probe_requests_total{") && line.includes('category="payment_request"'),
    )
    .reduce((n, line) => n + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

async function stopAgents(): Promise<void> {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
}

describe("report --from-agents: one exact report from three agents", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "slo-regions-"));
    for (const r of REGIONS) {
      await mkdir(join(dir, r.region), { recursive: true });
      await writeFile(configFile(r.region), config(r.region));
      await writeFile(join(dir, r.region, "scenario.yaml"), scenario(r));
    }
    await startAgents("demo");
    await sleep(4_000);
    // A loaded machine can start an agent's probing late: each takes part with a few dozen requests.
    for (let waited = 0; waited < 60_000; waited += 500) {
      const counts = await Promise.all(urls.map(paymentRequests));
      if (counts.every((n) => n > 20)) break;
      await sleep(500);
    }
    await stopAgents();
    await startAgents("run");
  }, 180_000);
  afterAll(async () => {
    await stopAgents();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("equals the report of all the raw results pooled, category by category, with each region's figures", async () => {
    const merged = await cli(
      [
        "report",
        "--month",
        MONTH,
        "--from-agents",
        urls.join(","),
        "--trust-keys",
        await pinKeys(),
        "--format",
        "json",
      ],
      {
        SLO_AGENT_API_TOKEN: TOKEN,
      },
    );
    expect(merged.stderr).toBe("");
    expect(merged.code).toBe(0);
    const report = JSON.parse(merged.stdout);

    const pooledDir = join(dir, "pooled");
    for (const r of REGIONS) {
      const out = join(dir, `bundle-${r.region}`);
      const exported = await cli([
        "evidence",
        "export",
        "--month",
        MONTH,
        "--config",
        configFile(r.region),
        "--data-dir",
        dataDir(r.region),
        "--out",
        out,
      ]);
      expect(exported.code, exported.stderr).toBe(0);
      // A bundle line is a result line with its chain position in front.
      const lines = (await readFile(join(out, "records.ndjson"), "utf8"))
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => `{${l.slice(l.indexOf('"ts":'))}`)
        .filter((l) => l.includes(`"ts":"${MONTH}`));
      await writeFile(join(dir, `${r.region}.ndjson`), `${lines.join("\n")}\n`);
      const imported = await cli([
        "import",
        join(dir, `${r.region}.ndjson`),
        "--config",
        configFile("eu"),
        "--data-dir",
        pooledDir,
      ]);
      expect(imported.code, imported.stderr).toBe(0);
    }
    const pooled = await cli([
      "report",
      "--month",
      MONTH,
      "--config",
      configFile("eu"),
      "--data-dir",
      pooledDir,
      "--format",
      "json",
    ]);
    expect(pooled.code, pooled.stderr).toBe(0);
    const expected = JSON.parse(pooled.stdout);

    const figures = (rows: Record<string, unknown>[]) =>
      rows.map((c) => ({
        category: c.category,
        requests: c.requests,
        successful: c.successful,
        excluded: c.excluded,
        availability_pct: c.availability_pct,
        availability_met: c.availability_met,
        latency_p99_ms: c.latency_p99_ms,
        latency_met: c.latency_met,
        measured_availability_pct: c.measured_availability_pct,
      }));
    expect(figures(report.categories)).toEqual(figures(expected.categories));
    expect(report.service_classes).toEqual(expected.service_classes);
    expect(
      report.daily.map((d: Record<string, unknown>) => [
        d.date,
        d.category,
        d.requests,
        d.served,
        d.latency_p99_ms,
      ]),
    ).toEqual(
      expected.daily.map((d: Record<string, unknown>) => [
        d.date,
        d.category,
        d.requests,
        d.served,
        d.latency_p99_ms,
      ]),
    );
    // The agents really differ, and every one took part.
    const payments = report.categories.find((c: { category: string }) => c.category === "payment_request");
    expect(payments.regions.map((r: { region: string }) => r.region)).toEqual(["eu", "na", "oc"]);
    expect(payments.regions.every((r: { requests: number }) => r.requests > 5)).toBe(true);
    expect(payments.regions[1].availability_pct).toBeLessThan(100);
    expect(payments.regions[0].latency_p99_ms).toBeLessThan(payments.regions[2].latency_p99_ms);
    expect(payments.requests).toBe(
      payments.regions.reduce((n: number, r: { requests: number }) => n + r.requests, 0),
    );
    expect(report.merged_from.map((a: { agent: string }) => a.agent)).toEqual([
      "agent-eu",
      "agent-na",
      "agent-oc",
    ]);
    for (const a of report.merged_from) {
      expect(a.evidence.verified).toBe(true);
      expect(a.evidence.statement.agent).toBe(a.agent);
      expect(a.evidence.signature.alg).toBe("ed25519");
    }
    expect(merged.stdout).not.toContain(TOKEN);

    const md = await cli(
      [
        "report",
        "--month",
        MONTH,
        "--from-agents",
        urls.join(","),
        "--trust-keys",
        await pinKeys(),
        "--format",
        "md",
      ],
      {
        SLO_AGENT_API_TOKEN: TOKEN,
      },
    );
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain("Merged from 3 agents");
    expect(md.stdout).toMatch(/\| `payment_request` \| na \|/);
  }, 240_000);

  it("refuses a wrong or missing token, an agent that is down and the same agent twice, naming the agent", async () => {
    const keys = await pinKeys();
    const report = (env: Record<string, string | undefined>, list = urls) =>
      cli(
        [
          "report",
          "--month",
          MONTH,
          "--from-agents",
          list.join(","),
          "--trust-keys",
          keys,
          "--format",
          "json",
        ],
        env,
      );
    const wrong = await report({ SLO_AGENT_API_TOKEN: "not-the-token-at-all-0000" });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      /^slo-agent report --from-agents: the agent at http:\/\/127\.0\.0\.1:\d+ answered 401: it refused the token in SLO_AGENT_API_TOKEN\n$/,
    );
    const missing = await report({ SLO_AGENT_API_TOKEN: undefined });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("set SLO_AGENT_API_TOKEN");
    // The same URL spelt twice is a usage error; one agent behind two URLs is exit 1
    // (test/regions/hostile-agent.test.ts).
    const twice = await report({ SLO_AGENT_API_TOKEN: TOKEN }, [urls[0]!, `${urls[0]!}/`]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("an agent URL is given twice");
    const anonymous = await fetch(`${urls[0]}/api/v1/months/${MONTH}/summary`);
    expect(anonymous.status).toBe(401);

    const down = urls[2]!;
    await agents[2]!.stop();
    const refused = await report({ SLO_AGENT_API_TOKEN: TOKEN });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`cannot reach the agent at ${down}`);
    for (const out of [wrong, missing, twice, refused]) {
      expect(out.stdout).toBe("");
      expect(out.stderr).not.toContain(TOKEN);
      expect(out.stderr.trim().split("\n")).toHaveLength(1);
    }
    for (const agent of agents) expect(agent.output()).not.toContain(TOKEN);
  }, 120_000);
});
