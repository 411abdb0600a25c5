/**
 * `slo-agent report --prometheus URL` at its edges: what a Prometheus API that is down, wrong or
 * refusing gives (exit 2, one line naming the URL), the bearer token from the environment sent and
 * never shown, and formats that need the store refused. The figures themselves are checked against
 * a real Prometheus in test/regions/prometheus.test.ts.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrometheusMonthReport } from "../../src/reports/prometheus-month.js";
import { CLI, REPO } from "./cli-run.js";
import { onePaymentCategoryConfig } from "./prometheus-config.js";

const TOKEN = "prom-token-77e1c0";
const EMPTY_VECTOR = JSON.stringify({ status: "success", data: { resultType: "vector", result: [] } });

let dir: string;
let server: Server;
let base: string;
const queries: { authorization: string | undefined; query: string | null; time: string | null }[] = [];

/** Each path prefix answers one way; /ok wants the bearer token and has no series. */
function answer(request: IncomingMessage, body: string): [number, string] {
  const form = new URLSearchParams(body);
  queries.push({
    authorization: request.headers.authorization,
    query: form.get("query"),
    time: form.get("time"),
  });
  if (request.url?.startsWith("/html/")) return [200, "<html>login</html>"];
  if (request.url?.startsWith("/refuses/")) {
    return [400, JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error at char 1" })];
  }
  if (request.headers.authorization !== `Bearer ${TOKEN}`)
    return [401, `unauthorized: ${request.headers.authorization}`];
  return [200, EMPTY_VECTOR];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-report-prometheus-"));
  writeFileSync(join(dir, "slo.yaml"), onePaymentCategoryConfig(1500));
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const [status, text] = answer(request, body);
      response.writeHead(status, { "content-type": "application/json" });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The CLI as a child process, asynchronously: the loopback server above answers it. */
function report(args: readonly string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [CLI, "report", "--month", "2026-10", "--config", join(dir, "slo.yaml"), ...args],
      { cwd: REPO, env: { ...process.env, SLO_AGENT_PROMETHEUS_TOKEN: "", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
    );
  });
}

describe("slo-agent report --prometheus", () => {
  const refused: { name: string; args: () => string[]; stderr: () => RegExp }[] = [
    {
      name: "an unreachable URL",
      args: () => ["--prometheus", "http://127.0.0.1:1"],
      stderr: () => /^slo-agent report --prometheus: http:\/\/127\.0\.0\.1:1: unreachable \(ECONNREFUSED\)$/,
    },
    {
      name: "an answer that is not JSON (a login page)",
      args: () => ["--prometheus", `${base}/html`],
      stderr: () =>
        new RegExp(`^slo-agent report --prometheus: ${base}/html: HTTP 200, not a Prometheus API answer`),
    },
    {
      name: "a query the API refuses",
      args: () => ["--prometheus", `${base}/refuses`],
      stderr: () =>
        new RegExp(`^slo-agent report --prometheus: ${base}/refuses: HTTP 400, query refused: parse error`),
    },
    {
      name: "a missing or wrong token (401)",
      args: () => ["--prometheus", base],
      stderr: () =>
        new RegExp(`^slo-agent report --prometheus: ${base}: HTTP 401, not a Prometheus API answer`),
    },
    {
      name: "credentials in the URL",
      args: () => ["--prometheus", `http://user:hunter2@127.0.0.1:1`],
      stderr: () => /put credentials in SLO_AGENT_PROMETHEUS_TOKEN/,
    },
    {
      name: "a format that needs the evidence store",
      args: () => ["--prometheus", base, "--format", "html"],
      stderr: () => /--format must be json or md/,
    },
  ];
  // The CLI runs side by side (each costs a CPU second to start); the cases check their outcomes.
  let outcomes: Awaited<ReturnType<typeof report>>[];
  beforeAll(async () => {
    outcomes = await Promise.all(refused.map(({ args }) => report(args())));
  });
  for (const [i, { name, stderr }] of refused.entries()) {
    it(`refuses ${name}: exit 2, one line`, () => {
      const run = outcomes[i]!;
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      const lines = run.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(stderr());
      expect(run.stderr).not.toContain("hunter2");
    });
  }

  it("sends the token from SLO_AGENT_PROMETHEUS_TOKEN as a bearer token and never shows it", async () => {
    queries.length = 0;
    const run = await report(["--prometheus", `${base}/`, "--format", "json"], {
      SLO_AGENT_PROMETHEUS_TOKEN: TOKEN,
    });
    // This source answers no series at all, which the command says, and nothing else.
    expect(run.stderr.split("\n").filter(Boolean)).toEqual([
      expect.stringContaining("Prometheus has no slo_probe_requests_total series"),
    ]);
    expect(run.code).toBe(0);
    expect(`${run.stdout}${run.stderr}`).not.toContain(TOKEN);
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.every((q) => q.authorization === `Bearer ${TOKEN}`)).toBe(true);
    // October is over: every query is evaluated at its end, over the whole month.
    expect(new Set(queries.map((q) => q.time))).toEqual(
      new Set([String(Date.UTC(2026, 10, 1) / 1000) + ".000"]),
    );
    expect(queries.every((q) => q.query?.includes("[2678400s]"))).toBe(true);
    const parsed = JSON.parse(run.stdout) as PrometheusMonthReport;
    expect(parsed.source).toMatchObject({ kind: "prometheus", url: base, range: "2678400s" });
    expect(parsed.categories).toEqual([
      expect.objectContaining({
        category: "payment_request",
        requests: 0,
        availability_pct: null,
        latency_p99_ms: null,
      }),
    ]);
  });
});
