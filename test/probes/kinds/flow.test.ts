import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../../src/clock/system.js";
import { configSha256, effectiveConfiguration } from "../../../src/config/fingerprint.js";
import { loadConfig } from "../../../src/config/index.js";
import type { FlowProbeSpec, SloConfig } from "../../../src/model/config.js";
import type { ProbeResult } from "../../../src/model/result.js";
import { ProbeRunner } from "../../../src/probes/index.js";
import { type RunningSimulator, startSimulator } from "../../../src/sim/index.js";
import { scenarioFromWire, scenarioWire } from "../../../src/sim/scenario-schema.js";
import { ConfigDirs, minimalSlo } from "../../config/config-dir.js";

const CATEGORIES = `categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 150}
  read_only_payment_transaction: {title: Read Payment, service_class: transaction_critical, latency_p99_ms: 150}
`;

/** Create a session, read an order by its id (step 2), read the session back; finally re-read it. */
const FLOW = `probes:
  - id: session-flow
    kind: flow
    category: payment_request
    target: klarna
    every: 5m
    writes: true
    steps:
      - id: create
        method: POST
        path: /payments/v1/sessions
        body: {purchase_country: SE, purchase_currency: SEK, order_amount: 100}
        extract: {session_id: "$.session_id"}
      - id: order
        path: "/ordermanagement/v1/orders/\${steps.create.session_id}"
        category: read_only_payment_transaction
      - id: read
        path: "/payments/v1/sessions/\${steps.create.session_id}"
    finally:
      - id: cleanup
        path: "/payments/v1/sessions/\${steps.create.session_id}"
`;

/** `${steps.<step>.<name>}`, spelled so that the linter does not read a template-literal slip. */
const ref = (step: string, name: string) => `$${"{"}steps.${step}.${name}}`;

const dirs = new ConfigDirs();
let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
afterEach(() => dirs.remove());

async function load(probes: string, environment = "simulator"): Promise<SloConfig> {
  const targets = `targets:\n  klarna:\n    base_url: ${sim.url}\n    environment: ${environment}\n`;
  const slo = minimalSlo({ targets, probes }).replace(/categories:\n.*\n/, CATEGORIES);
  const dir = await dirs.create({ "slo.yaml": slo });
  return (await loadConfig(join(dir, "slo.yaml"), { env: {} })).config;
}

async function problemsOf(probes: string, environment = "simulator"): Promise<string[]> {
  try {
    await load(probes, environment);
    return [];
  } catch (error) {
    return String((error as Error).message)
      .split("\n")
      .filter((line) => line.includes("slo.yaml:"));
  }
}

async function runFlow(config: SloConfig): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  const runner = new ProbeRunner({ clock: systemClock, config, sink: { record: (r) => results.push(r) } });
  const flow = config.probes.find((p) => p.kind === "flow")!;
  await runner.execute(flow, Date.now());
  await runner.close();
  return results;
}

function countsOf(before: Record<string, number>): Record<string, number> {
  const after = sim.requestCounts();
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v > 0),
  );
}

describe("kind: flow against the simulator", () => {
  it("loads: steps in order, step values left for run time, the step's own category", async () => {
    const flow = (await load(FLOW)).probes[0] as FlowProbeSpec;
    expect(flow.kind).toBe("flow");
    expect(flow.steps.map((s) => [s.id, s.method, s.category])).toEqual([
      ["create", "POST", "payment_request"],
      ["order", "GET", "read_only_payment_transaction"],
      ["read", "GET", "payment_request"],
    ]);
    expect(flow.steps[1]!.path).toBe(`/ordermanagement/v1/orders/${ref("create", "session_id")}`);
    expect(flow.finally.map((s) => s.id)).toEqual(["cleanup"]);
  });

  it("runs every step with one run id, each a result of its category, values passed along", async () => {
    sim.setScenario(scenarioFromWire(scenarioWire.parse({})));
    const before = sim.requestCounts();
    const results = await runFlow(await load(FLOW));
    expect(results.map((r) => [r.probe, r.category, r.status])).toEqual([
      ["session-flow/create", "payment_request", 200],
      ["session-flow/order", "read_only_payment_transaction", 200],
      ["session-flow/read", "payment_request", 200],
      ["session-flow/cleanup", "payment_request", 200],
    ]);
    const runs = new Set(results.map((r) => r.observed?.flow_run));
    expect(runs.size).toBe(1);
    expect([...runs][0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(results.map((r) => r.observed?.step)).toEqual(["create", "order", "read", "cleanup"]);
    expect(results.at(-1)!.observed).toMatchObject({ flow: "session-flow", flow_steps: 4 });
    expect(countsOf(before)).toEqual({ payment_request: 3, read_only_payment_transaction: 1 });
  });

  it("step 2 failing stops the flow: step 3 is not run and not recorded; finally still runs", async () => {
    sim.setScenario(
      scenarioFromWire(
        scenarioWire.parse({
          categories: { read_only_payment_transaction: { error_rate: 1, error_status: 503 } },
        }),
      ),
    );
    const before = sim.requestCounts();
    const results = await runFlow(await load(FLOW));
    expect(results.map((r) => [r.probe, r.status])).toEqual([
      ["session-flow/create", 200],
      ["session-flow/order", 503],
      ["session-flow/cleanup", 200],
    ]);
    expect(results[1]!.observed).toMatchObject({
      step: "order",
      failed_step: "order",
      step_failure: "no_success",
      not_run: ["read"],
      flow_steps: 3,
    });
    expect(new Set(results.map((r) => r.observed?.flow_run)).size).toBe(1);
    // The step not run asked nothing of the provider, so nothing can count against it.
    expect(countsOf(before)).toEqual({ payment_request: 2, read_only_payment_transaction: 1 });
  });

  it("a value the response lacks stops the flow at that step (its served status stands)", async () => {
    sim.setScenario(scenarioFromWire(scenarioWire.parse({})));
    const results = await runFlow(await load(FLOW.replace('"$.session_id"', '"$.no_such_field"')));
    expect(results.map((r) => [r.probe, r.status])).toEqual([["session-flow/create", 200]]);
    expect(results[0]!.observed).toMatchObject({
      failed_step: "create",
      step_failure: "extract",
      not_run: ["order", "read", "cleanup"],
    });
  });

  it("a flow that writes is refused against a production target", async () => {
    expect(await problemsOf(FLOW, "production")).toEqual([
      expect.stringContaining(
        "writes: a probe that writes needs a target whose environment is playground or simulator",
      ),
    ]);
  });
});

describe("kind: flow configuration errors", () => {
  const cases: [string, string, string][] = [
    [
      "a POST step without writes: true",
      FLOW.replace("    writes: true\n", ""),
      "steps[0].method: a POST step needs writes: true on the flow",
    ],
    [
      "a value no earlier step extracts",
      FLOW.replace(ref("create", "session_id"), ref("read", "session_id")),
      `steps[1]: ${ref("read", "session_id")}: no earlier step extracts "session_id" as step "read"`,
    ],
    [
      "a JSONPath outside the subset",
      FLOW.replace('"$.session_id"', '"$..session_id"'),
      "extract.session_id: must be a JSONPath",
    ],
    [
      "a duplicate step id",
      FLOW.replace("- id: read", "- id: create"),
      'steps[2].id: duplicate step id "create"',
    ],
  ];
  it.each(cases)("%s is refused, located", async (_name, probes, message) => {
    const problems = await problemsOf(probes);
    expect(
      problems.some((p) => p.includes(message)),
      problems.join("\n"),
    ).toBe(true);
  });
});

describe("kind: flow with a value from the environment", () => {
  it("never puts the value into the recorded configuration, and a report needs no value", async () => {
    const SECRETV = "flow-secret-4b1d93";
    const probes = FLOW.replace("order_amount: 100}", `order_amount: 100, note: "\${NOTE}"}`);
    const targets = `targets:\n  klarna:\n    base_url: ${sim.url}\n    environment: simulator\n`;
    const slo = minimalSlo({ targets, probes }).replace(/categories:\n.*\n/, CATEGORIES);
    const dir = await dirs.create({ "slo.yaml": slo });
    const set = await loadConfig(join(dir, "slo.yaml"), { env: { NOTE: SECRETV }, probing: true });
    const flow = set.config.probes[0] as FlowProbeSpec;
    expect(flow.steps[0]!.body).toContain(SECRETV);
    const text = JSON.stringify(effectiveConfiguration(set.config));
    expect(text).not.toContain(SECRETV);
    // A report (no probing) needs no value: it stands in, and the fingerprint is the run's.
    const unset = await loadConfig(join(dir, "slo.yaml"), { env: {}, probing: false });
    expect(configSha256(unset.config)).toBe(configSha256(set.config));
    const steps = (effectiveConfiguration(set.config) as { probes: { steps: { body: unknown }[] }[] })
      .probes[0]!.steps;
    expect(steps.map((s) => s.body)).toEqual(["[secret]", null, null]);
  });
});
