import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, slo } from "../reports/cli-run.js";
import { eventually } from "../support/eventually.js";
import { type Running, startProcess } from "../support/processes.js";

/**
 * Controls judge the results taken while they were in force (issue 24, ATTACK-24c item 1): two
 * controls, A down together with the provider, B answering -- under the default quorum of 2 the
 * outage is the provider's. A reload of `controls_quorum: 1` after the outage turned all of it
 * merchant_side in the report (50 % -> 100 %) while /metrics kept it failed. Now the quorum, like
 * the controls, takes effect at the next start, the log's configuration records say which settings
 * judged each result, and the report, /metrics after a restart and recompute.py all keep the outage
 * the provider's, with the change shown and warned in every format.
 */

type Mode = "up" | "down";

/** A loopback server that answers 200 while "up" and resets every connection while "down". */
function toggled(): { server: Server; set(mode: Mode): void } {
  let mode: Mode = "up";
  const server = createServer((req, res) => {
    if (mode === "down") req.socket.destroy();
    else res.writeHead(200, { connection: "close" }).end("{}");
  });
  return { server, set: (m) => (mode = m) };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function config(urls: { provider: string; a: string; b: string }, quorum?: number): string {
  return `version: 1
agent: {id: quorum-1, region: test, listen: 127.0.0.1:0, data_dir: ./evidence, max_stall_ms: 1000}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
targets:
  api: {base_url: "${urls.provider}", environment: simulator, keep_alive: false, auth: {type: none}}
${quorum === undefined ? "" : `controls_quorum: ${quorum}\n`}controls:
  - {id: ca, url: "${urls.a}/health", every: 1s, timeout_ms: 500}
  - {id: cb, url: "${urls.b}/health", every: 1s, timeout_ms: 500}
probes:
  - {id: pay, category: payment_request, target: api, every: 1s, timeout_ms: 500, path: /pay}
`;
}

/** The first sample of `name` holding every label, or undefined. */
function metric(text: string, name: string, ...labels: string[]): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

const failed = (text: string) =>
  metric(text, "slo_probe_requests_total", 'probe="pay"', 'outcome="failed"') ?? 0;
const served = (text: string) =>
  metric(text, "slo_probe_requests_total", 'probe="pay"', 'outcome="served"') ?? 0;

async function metricsWhen(agent: Running, url: string, ready: (t: string) => boolean, what: string) {
  return eventually(
    async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return ready(text) ? text : undefined;
    },
    60_000,
    what,
    { context: agent.output },
  );
}

type Report = {
  categories: { category: string; requests: number; successful: number; excluded: number }[];
  automatic_exclusions?: { reason: string; requests: number }[];
  controls?: { quorum: number; controls: string[]; changes?: { quorum: number; controls: string[] }[] };
  warnings?: string[];
};

const MONTH = new Date().toISOString().slice(0, 7);
const merchantSide = (r: Report) =>
  (r.automatic_exclusions ?? [])
    .filter((x) => x.reason === "merchant_side")
    .reduce((n, x) => n + x.requests, 0);

describe("a controls_quorum loaded after an outage does not re-judge it (ATTACK-24c item 1)", {
  timeout: 300_000,
}, () => {
  const provider = toggled();
  const a = toggled();
  const b = toggled();
  let dir: string;
  let outageFailures = 0;
  let restartedMetrics = "";
  let reloadLines = "";

  beforeAll(async () => {
    const urls = {
      provider: await listen(provider.server),
      a: await listen(a.server),
      b: await listen(b.server),
    };
    dir = mkdtempSync(join(tmpdir(), "slo-quorum-"));
    writeFileSync(join(dir, "slo.yaml"), config(urls));
    const run = () =>
      startProcess(process.execPath, [CLI, "run", "--config", "slo.yaml", "--log-format", "json"], dir);
    let agent = run();
    try {
      const url = await agent.listening(60_000);
      await metricsWhen(agent, url, (t) => served(t) >= 3, "served three times");
      // The outage: the provider and control A down together, B answering.
      provider.set("down");
      a.set("down");
      const during = await metricsWhen(agent, url, (t) => failed(t) >= 6, "six failures in the outage");
      provider.set("up");
      a.set("up");
      outageFailures = failed(during);
      await metricsWhen(agent, url, (t) => served(t) >= served(during) + 2, "served after the outage");
      // After it, the operator reloads controls_quorum 1: it waits for the next start.
      writeFileSync(join(dir, "slo.yaml"), config(urls, 1));
      agent.child.kill("SIGHUP");
      await eventually(
        () => (agent.stderr().includes("configuration reloaded") ? true : undefined),
        30_000,
        "reload",
      );
      reloadLines = agent.stderr();
    } finally {
      await agent.stop();
    }
    // The next start takes it: the outage before stays judged by the quorum of 2.
    agent = run();
    try {
      const url = await agent.listening(60_000);
      restartedMetrics = await metricsWhen(agent, url, (t) => served(t) >= 2, "served after the restart");
    } finally {
      await agent.stop();
    }
  }, 240_000);

  afterAll(async () => {
    for (const s of [provider, a, b]) await new Promise((r) => s.server.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const report = (format: string) => {
    const run = slo(["report", "--config", "slo.yaml", "--month", MONTH, "--format", format], dir);
    expect(run.code, run.stderr).toBe(0);
    return run.stdout;
  };

  it("the reload says the quorum takes effect at the next start", () => {
    const lines = reloadLines.split("\n").filter((l) => l.includes("it takes effect at the next start"));
    expect(lines).toEqual([expect.stringContaining('"key":"controls_quorum"')]);
  });

  it("the report keeps the outage the provider's and shows the change", () => {
    const r = JSON.parse(report("json")) as Report;
    expect(outageFailures).toBeGreaterThanOrEqual(6);
    expect(merchantSide(r)).toBe(0);
    const pay = r.categories.find((c) => c.category === "payment_request")!;
    expect(pay.requests - pay.successful - pay.excluded).toBeGreaterThanOrEqual(outageFailures);
    expect(r.controls).toMatchObject({
      quorum: 2,
      controls: ["ca", "cb"],
      changes: [{ quorum: 1, controls: ["ca", "cb"] }],
    });
  });

  it("every format warns that the controls changed", () => {
    for (const format of ["json", "markdown", "html", "csv"])
      expect(report(format), format).toMatch(
        /the controls changed on .* to ca, cb \(quorum 1\): results sent from then on/,
      );
  });

  it("/metrics after the restart counts the outage as the report does (the month's availability below 1)", () => {
    const month = metric(
      restartedMetrics,
      "slo_availability_ratio",
      'category="payment_request"',
      'window="month"',
    );
    expect(month).toBeDefined();
    expect(month!).toBeLessThan(1);
  });

  it("recompute.py gives the report's figures from the configuration records", () => {
    const run = slo(["evidence", "export", "--config", "slo.yaml", "--month", MONTH, "--out", "bundle"], dir);
    expect(run.code, run.stderr).toBe(0);
    const recompute = spawnSync("python3", ["recompute.py"], {
      cwd: join(dir, "bundle"),
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(recompute.stderr).toBe("");
    expect(recompute.status).toBe(0);
    const mine = (JSON.parse(recompute.stdout) as { categories: Record<string, unknown>[] }).categories.find(
      (c) => c.category === "payment_request",
    )!;
    const stated = (
      JSON.parse(readFileSync(join(dir, "bundle", "report.json"), "utf8")) as Report
    ).categories.find((c) => c.category === "payment_request") as unknown as Record<string, unknown>;
    for (const [field, value] of Object.entries(mine)) expect([field, value]).toEqual([field, stated[field]]);
  });
});
