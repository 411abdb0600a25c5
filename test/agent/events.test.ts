import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Running, sleep } from "../export/live-processes.js";
import { startAgent } from "../support/processes.js";

const ROOT = join(import.meta.dirname, "../..");

function jsonLines(run: Running): Record<string, unknown>[] {
  // All of it: under load the stall warnings alone fill the 4,000 characters output() keeps.
  const stderr = run.stderr();
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function line(
  run: Running,
  match: (l: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = jsonLines(run).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no such log line in time\n${run.output()}`);
    await sleep(100);
  }
}

describe("logs that say what happened (slo-agent demo, JSON logs)", () => {
  let dir: string;
  let demo: Running;
  let simulator: string;
  let metricsUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "slo-events-"));
    const started = await startAgent(
      "demo",
      [
        "--data-dir",
        dir,
        "--every",
        "200ms",
        "--scenario",
        join(ROOT, "scenarios/healthy.yaml"),
        "--log-format",
        "json",
      ],
      { cwd: dir, timeoutMs: 20_000 },
    );
    demo = started.agent;
    metricsUrl = `${started.url}/metrics`;
    simulator = await demo.simulator(1_000);
  }, 30_000);
  afterAll(async () => {
    await demo?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("a scripted outage yields one start line and one end line for its category, and the first failure per reason", async () => {
    const patch = (body: string) =>
      fetch(`${simulator}/__sim/scenario/categories/payment_request`, { method: "PATCH", body });
    expect((await patch('{"error_rate": 1, "error_status": 503}')).status).toBe(200);
    const started = await line(
      demo,
      (l) => l.msg === "category outage started" && l.category === "payment_request",
    );
    expect(started).toMatchObject({ level: "warn", reasons: ["http_503"] });
    expect(typeof started.time).toBe("string");
    const failure = await line(demo, (l) => l.msg === "probe failure" && l.category === "payment_request");
    expect(failure).toMatchObject({ level: "warn", reason: "http_503", status: 503 });
    expect(failure).toHaveProperty("correlation_id");

    await sleep(1_000);
    expect((await patch("{}")).status).toBe(200);
    const ended = await line(
      demo,
      (l) => l.msg === "category outage ended" && l.category === "payment_request",
    );
    expect(ended).toMatchObject({ level: "warn", since: started.since, reasons: ["http_503"] });
    expect(ended.failed as number).toBeGreaterThanOrEqual(3);

    const lines = jsonLines(demo);
    const about = (msg: string) => lines.filter((l) => l.msg === msg && l.category === "payment_request");
    expect(about("category outage started")).toHaveLength(1);
    // Rate-limited: one line per reason and target however many probes failed.
    const failures = about("probe failure").filter((l) => l.reason === "http_503");
    expect(new Set(failures.map((l) => l.target)).size).toBe(failures.length);
    for (const l of lines) expect(Object.keys(l)).toEqual(expect.arrayContaining(["level", "time", "msg"]));
  }, 60_000);

  it("exports the process and Node.js runtime metrics and slo_agent_build_info", async () => {
    // The event-loop delay series appear once the collector holds 5 samples (2.5 s of uptime).
    let text = "";
    for (let attempt = 0; attempt < 20 && !/^nodejs_eventloop_delay_p99[{ ]/m.test(text); attempt++) {
      if (attempt > 0) await sleep(500);
      text = await (await fetch(metricsUrl)).text();
    }
    const build = text.split("\n").filter((l) => l.startsWith("slo_agent_build_info{"));
    expect(build).toHaveLength(1);
    expect(build[0]).toContain(`node_version="${process.versions.node}"`);
    expect(build[0]).toMatch(/version="\d+\.\d+\.\d+[^"]*".* 1$/);
    for (const name of [
      "nodejs_eventloop_delay_p99",
      "nodejs_eventloop_utilization",
      "v8js_memory_heap_used",
    ])
      expect(text).toMatch(new RegExp(`^${name}[{ ]`, "m"));
    for (const name of ["process_cpu_time", "process_memory_usage"])
      expect(text).toMatch(new RegExp(`^${name}`, "m"));
  });
});
