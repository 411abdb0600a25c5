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
 * Contract section 14, moved maintenance, for a window declared in slo.yaml (ATTACK-24 finding 1):
 * the real agent probes a loopback target in an outage; a reload (SIGHUP) moves the declared
 * window, announced 30 days ago for next week, onto the running outage, its announced_at left
 * alone. The moved window is judged from when that configuration was loaded (the log's
 * configuration record), so it is late_notice and the outage counts -- also after a restart, in
 * the report, in the daemon's own figures and in recompute.py.
 */

const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();
const ANNOUNCED = iso(T0 - 30 * DAY);
const FIRST = { start: iso(T0 + 8 * DAY), end: iso(T0 + 8 * DAY + 3_600_000) };
const MOVED = { start: iso(T0 - 600_000), end: iso(T0 + 3_600_000) };
const MONTH = iso(T0).slice(0, 7);

function config(targetUrl: string, window: { start: string; end: string }): string {
  return `version: 1
agent: {id: moved-1, region: test, listen: 127.0.0.1:0, data_dir: ./evidence}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
maintenance:
  policy: {min_notice_days: 7, max_occasions_per_year: 6, max_hours_per_year: 40}
  windows:
    - {id: mw1, start: "${window.start}", end: "${window.end}", announced_at: "${ANNOUNCED}", categories: [all]}
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
  const stderr = run.output().split("--- stderr\n")[1] ?? "";
  return stderr
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

/** Probe attempts the agent counted as the provider's failures. */
const failed = (text: string) => metric(text, "slo_probe_requests_total", 'probe="pay"', 'outcome="failed"');

describe("a declared window moved onto an outage by a reload (contract section 14)", {
  timeout: 240_000,
}, () => {
  let target: Server;
  let targetUrl: string;
  let dir: string;
  const file = () => join(dir, "slo.yaml");
  let reloadedAt = 0;

  beforeAll(async () => {
    // The provider's outage: every request answered 503.
    target = createServer((_req, res) => res.writeHead(503).end("down"));
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), "slo-declared-moved-"));
    await writeFile(file(), config(targetUrl, FIRST));
    const agent = startProcess(
      process.execPath,
      [MAIN, "run", "--config", file(), "--log-format", "json"],
      dir,
    );
    try {
      const url = await agent.listening(30_000);
      await eventually(
        async () => {
          const n = failed(await (await fetch(`${url}/metrics`)).text());
          return n !== undefined && n >= 3 ? n : undefined;
        },
        30_000,
        "probed three times",
        { context: agent.output },
      );
      await writeFile(file(), config(targetUrl, MOVED));
      reloadedAt = Date.now();
      agent.child.kill("SIGHUP");
      await eventually(
        () => (logged(agent, "configuration reloaded").length > 0 ? true : undefined),
        30_000,
        "reload logged",
        { context: agent.output },
      );
      // The operator is told the move counts as announced now.
      expect(logged(agent, "declared maintenance moved: the changed part counts as announced now")).toEqual([
        expect.objectContaining({ level: "warn", windows: ["mw1"] }),
      ]);
      await new Promise((r) => setTimeout(r, 3_000));
    } finally {
      await agent.stop();
    }
  }, 120_000);

  afterAll(async () => {
    await new Promise((r) => target?.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function report() {
    const run = slo(["report", "--config", file(), "--month", MONTH, "--format", "json"], dir);
    expect(run.stderr).not.toContain("did not verify");
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout);
  }

  function checkReport(r: {
    maintenance: { windows: Record<string, unknown>[] };
    categories: { category: string; requests: number; successful: number; excluded: number }[];
  }) {
    const windows = r.maintenance.windows.filter((w) => w.id === "mw1");
    expect(windows.length).toBeGreaterThan(0);
    for (const w of windows) expect(w).toMatchObject({ qualified: false, reason: "late_notice" });
    // The history: as announced (from announced_at), then as moved (when the reload loaded it).
    const history = windows[0]!.history as { seen_at: string; start: string }[];
    expect(history).toHaveLength(2);
    expect(history[0]!.seen_at).toBe(ANNOUNCED);
    expect(history[0]!.start).toBe(FIRST.start);
    expect(history[1]!.start).toBe(MOVED.start);
    const seen = Date.parse(history[1]!.seen_at);
    expect(seen).toBeGreaterThanOrEqual(reloadedAt - 1_000);
    expect(seen).toBeLessThan(reloadedAt + 30_000);
    const pay = r.categories.find((c) => c.category === "payment_request")!;
    // Every request of the outage counts against the provider; none is hidden by the window.
    expect(pay.excluded).toBe(0);
    expect(pay.requests).toBeGreaterThanOrEqual(4);
    expect(pay.successful).toBe(0);
  }

  it("the report judges the moved part from the reload: late_notice, the outage counted, history shown", () => {
    checkReport(report());
  });

  it("the Markdown report lists the declared window's versions", () => {
    const run = slo(["report", "--config", file(), "--month", MONTH, "--format", "markdown"], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "mw1 changed after it was announced; each change is judged from when it was first seen",
    );
  });

  it("a restart keeps it: the daemon's own figures count the outage, and the report is unchanged", async () => {
    const agent = startProcess(
      process.execPath,
      [MAIN, "run", "--config", file(), "--log-format", "json"],
      dir,
    );
    try {
      const url = await agent.listening(30_000);
      const text = await eventually(
        async () => {
          const body = await (await fetch(`${url}/metrics`)).text();
          const n = failed(body);
          return n !== undefined && n >= 2 ? body : undefined;
        },
        30_000,
        "probed after the restart",
        { context: agent.output },
      );
      // Counted against the provider: the live availability is 0, not absent (all excluded).
      expect(metric(text, "slo_availability_ratio", 'category="payment_request"', 'window="month"')).toBe(0);
    } finally {
      await agent.stop();
    }
    checkReport(report());
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
    const stated = JSON.parse(await readFile(join(bundle, "report.json"), "utf8"));
    checkReport(stated);
    const pay = stated.categories.find((c: { category: string }) => c.category === "payment_request");
    const mine = figures.categories.find((c) => c.category === "payment_request")!;
    for (const [field, value] of Object.entries(mine)) expect([field, value]).toEqual([field, pay[field]]);
  });
});
