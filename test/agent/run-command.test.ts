import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.js";

const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");

function configFor(simulatorUrl: string): string {
  return `version: 1
agent: {region: test, listen: 127.0.0.1:0, data_dir: ./evidence}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 150}
targets:
  sim: {base_url: "${simulatorUrl}", environment: simulator, auth: {type: basic, username: "\${SIM_USER}", password: "\${SIM_PASSWORD}"}}
probes:
  - {id: payment-request-read, category: payment_request, target: sim, every: 1s, path: /payments/v1/sessions/0}
`;
}

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess): { output: () => Exited; exited: Promise<Exited> } {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const output = () => ({ code: child.exitCode, stdout, stderr });
  const exited = new Promise<Exited>((resolve) =>
    child.on("exit", (code) => resolve({ code, stdout, stderr })),
  );
  return { output, exited };
}

describe("slo-agent run", () => {
  let simulator: RunningSimulator;
  let dir: string;
  const secret = "pw-0f3c-very-secret";

  beforeAll(async () => {
    simulator = await startSimulator();
    dir = await mkdtemp(join(tmpdir(), "slo-run-"));
    await writeFile(join(dir, "slo.yaml"), configFor(simulator.url));
  });
  afterAll(async () => {
    await simulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("probes until SIGTERM, exits 0, and leaves the evidence in the config's data_dir without leaking the secret", async () => {
    const child = spawn(process.execPath, [MAIN, "run", "--config", join(dir, "slo.yaml")], {
      cwd: dir,
      env: { ...process.env, SIM_USER: "merchant", SIM_PASSWORD: secret },
    });
    const { output, exited } = collect(child);
    const deadline = Date.now() + 20_000;
    while (!/listening on http:\/\/127\.0\.0\.1:\d+/.test(output().stdout) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = /listening on (\S+)/.exec(output().stdout)?.[1];
    expect(url).toBeDefined();
    // Wait for a few probe runs to be exported.
    let metrics = "";
    while (
      Date.now() < deadline &&
      !/slo_probe_requests_total\{[^}]*payment-request-read[^}]*\} [3-9]/.test(metrics)
    ) {
      metrics = await (await fetch(`${url}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill("SIGTERM");
    const done = await exited;
    expect(done.code).toBe(0);
    expect(`${done.stdout}${done.stderr}${metrics}`).not.toContain(secret);

    const store = openEvidenceStore({ dataDir: join(dir, "evidence"), clock: systemClock, logger: () => {} });
    const results = [...store.results({ from: 0, to: Date.now() + 1 })];
    store.close();
    expect(results.length).toBeGreaterThanOrEqual(3);
    expect(results.every((r) => r.status === 200 && r.probe === "payment-request-read")).toBe(true);
  }, 60_000);

  it("exits 2 with located problems, and no stack trace, on a bad configuration", async () => {
    await writeFile(
      join(dir, "bad.yaml"),
      configFor(simulator.url).replace("latency_p99_ms: 150", "latency_p99_ms: -1"),
    );
    const child = spawn(process.execPath, [MAIN, "run", "--config", join(dir, "bad.yaml")], { cwd: dir });
    const done = await collect(child).exited;
    expect(done.code).toBe(2);
    expect(done.stderr).toMatch(/bad\.yaml:6:\d+: categories\.payment_request\.latency_p99_ms: /);
    expect(done.stderr).not.toMatch(/\n\s+at /);
  }, 30_000);

  it("exits 2 on a malformed --listen", async () => {
    const child = spawn(
      process.execPath,
      [MAIN, "run", "--config", join(dir, "slo.yaml"), "--listen", "nowhere"],
      {
        cwd: dir,
        env: { ...process.env, SIM_USER: "u", SIM_PASSWORD: "p" },
      },
    );
    const done = await collect(child).exited;
    expect(done.code).toBe(2);
    expect(done.stderr).toContain("--listen: expected HOST:PORT");
  }, 30_000);
});

describe("slo-agent demo", () => {
  it("runs the shipped profile against the simulator without warning about the credentials it replaces", async () => {
    const dir = await mkdtemp(join(tmpdir(), "slo-demo-"));
    const child = spawn(process.execPath, [MAIN, "demo", "--listen", "127.0.0.1:0", "--data-dir", dir], {
      cwd: dir,
      env: { ...process.env, KLARNA_USERNAME: "", KLARNA_PASSWORD: "" },
    });
    const { output, exited } = collect(child);
    const deadline = Date.now() + 20_000;
    while (!/simulator on http/.test(output().stdout) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output().stdout).toMatch(
      /^listening on http:\/\/127\.0\.0\.1:\d+\nsimulator on http:\/\/127\.0\.0\.1:\d+\n$/,
    );
    child.kill("SIGTERM");
    const done = await exited;
    await rm(dir, { recursive: true, force: true });
    expect(done.code).toBe(0);
    expect(done.stderr).not.toMatch(/auth\.username/);
    expect(done.stderr).not.toMatch(/ error /);
  }, 60_000);
});
