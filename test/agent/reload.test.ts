import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../../src/agent/daemon.js";
import { systemClock } from "../../src/clock/system.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.js";
import { type Running, startProcess } from "../export/live-processes.js";
import { eventually } from "../support/eventually.js";
import { fixtureConfig } from "../support/slo-config.js";

const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");
const TOKEN = "reload-token-5d1e7c0a9b";

function config(simulatorUrl: string, probes: readonly string[], extra = ""): string {
  return `version: 1
agent: {region: test, listen: 127.0.0.1:0, data_dir: ./evidence, admin_token: ${TOKEN}}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
targets:
  sim: {base_url: "${simulatorUrl}", environment: simulator, auth: {type: none}}
probes:
${probes.map((id) => `  - {id: ${id}, category: payment_request, target: sim, every: 1s, path: /payments/v1/sessions/0}`).join("\n")}
${extra}`;
}

/** The value of `name{...probe="id"...}` in a scrape, or undefined. */
function countOf(text: string, name: string, probe: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(`probe="${probe}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** Log lines (JSON on stderr) with the given msg. */
function logged(run: Running, msg: string): Record<string, unknown>[] {
  const stderr = run.output().split("--- stderr\n")[1] ?? "";
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

describe("configuration reload of a running agent (slo-agent run in a child process)", () => {
  let simulator: RunningSimulator;
  let dir: string;
  let agent: Running;
  let url: string;
  const file = () => join(dir, "slo.yaml");
  const scrape = async () => (await fetch(`${url}/metrics`)).text();
  const post = (authorization?: string) =>
    fetch(`${url}/-/reload`, { method: "POST", headers: authorization ? { authorization } : {} });

  beforeAll(async () => {
    simulator = await startSimulator();
    dir = await mkdtemp(join(tmpdir(), "slo-reload-"));
    await writeFile(file(), config(simulator.url, ["first"]));
    agent = startProcess(process.execPath, [MAIN, "run", "--config", file(), "--log-format", "json"], dir);
    url = await agent.listening(20_000);
  }, 30_000);
  afterAll(async () => {
    await agent?.stop();
    await simulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers 401 to a missing or wrong bearer token, and 405 to a GET", async () => {
    expect((await post()).status).toBe(401);
    expect((await post("Bearer not-the-token-at-all")).status).toBe(401);
    expect((await post(`Basic ${TOKEN}`)).status).toBe(401);
    expect((await fetch(`${url}/-/reload`)).status).toBe(405);
    expect(logged(agent, "configuration reloaded")).toHaveLength(0);
  });

  it("SIGHUP adds a new probe and keeps the unchanged one's schedule, counters and histograms", async () => {
    const before = await eventually(
      async () => {
        const n = countOf(await scrape(), "slo_probe_duration_seconds_count", "first");
        return n !== undefined && n >= 2 ? n : undefined;
      },
      20_000,
      "first probed",
      { context: agent.output },
    );
    await writeFile(file(), config(simulator.url, ["first", "second"]));
    agent.child.kill("SIGHUP");
    const [line] = await eventually(
      () => {
        const lines = logged(agent, "configuration reloaded");
        return lines.length > 0 ? lines : undefined;
      },
      20_000,
      "reload logged",
      { context: agent.output },
    );
    expect(line).toMatchObject({ level: "info", trigger: "SIGHUP", kept: 1, added: ["second"], removed: [] });
    expect(line!.windows_recomputed).toBe(false);
    const text = await eventually(
      async () => {
        const t = await scrape();
        return (countOf(t, "slo_probe_duration_seconds_count", "second") ?? 0) >= 1 ? t : undefined;
      },
      20_000,
      "second probed",
      { context: agent.output },
    );
    expect(countOf(text, "slo_probe_duration_seconds_count", "first")).toBeGreaterThanOrEqual(before);
  });

  it("POST /-/reload refuses an invalid configuration with its located problems and keeps probing with the running one", async () => {
    await writeFile(
      file(),
      config(simulator.url, ["first", "second"]).replace("latency_p99_ms: 1500", "latency_p99_ms: -3"),
    );
    const response = await post(`Bearer ${TOKEN}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { ok: boolean; problems: string[] };
    expect(body.ok).toBe(false);
    expect(body.problems.join("\n")).toMatch(
      /slo\.yaml:6:\d+: categories\.payment_request\.latency_p99_ms: /,
    );
    expect(logged(agent, "configuration problem").map((l) => l.problem)).toEqual(body.problems);
    expect(logged(agent, "configuration reload refused; the running configuration is kept")).toHaveLength(1);
    const at = countOf(await scrape(), "slo_probe_duration_seconds_count", "second") ?? 0;
    await eventually(
      async () =>
        (countOf(await scrape(), "slo_probe_duration_seconds_count", "second") ?? 0) > at ? true : undefined,
      20_000,
      "still probing",
      { context: agent.output },
    );
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(agent.output()).not.toContain(TOKEN);
  });

  it("POST /-/reload with the token applies a valid configuration: a removed probe stops", async () => {
    await writeFile(file(), config(simulator.url, ["second"]));
    const response = await post(`Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      ok: true,
      kept: ["second"],
      removed: ["first"],
      added: [],
    });
  });
});

describe("POST /-/reload without agent.admin_token", () => {
  it("answers 403 whatever the token, and reloads nothing", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "slo-reload-off-"));
    let reloads = 0;
    const daemon = await startDaemon({
      config: { ...fixtureConfig(), probes: [] },
      dataDir,
      listen: { host: "127.0.0.1", port: 0 },
      clock: systemClock,
      log: () => {},
      reloadConfig: async () => {
        reloads++;
        return fixtureConfig();
      },
    });
    try {
      for (const authorization of ["", "Bearer anything-at-all-here"]) {
        const response = await fetch(`${daemon.url}/-/reload`, {
          method: "POST",
          headers: { authorization },
        });
        expect(response.status).toBe(403);
      }
      expect(reloads).toBe(0);
    } finally {
      await daemon.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
