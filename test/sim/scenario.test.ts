import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, formatProblem } from "../../src/config/problems.js";
import { loadScenario, parseScenario, SIM_CATEGORIES, shippedScenario } from "../../src/sim/index.js";
import { scenarioToWire } from "../../src/sim/scenario-schema.js";

function problemsOf(yaml: string): string[] {
  try {
    parseScenario(yaml, "s.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
}

const INVALID: { rule: string; yaml: string; problems: string[] }[] = [
  {
    rule: "a probability above 1 is refused",
    yaml: "default:\n  hang_probability: 2\n",
    problems: ["s.yaml:2:3: default.hang_probability: Too big: expected number to be <=1"],
  },
  {
    rule: "a misspelt fault is an unknown key, never silently ignored",
    yaml: "default:\n  error_rte: 0.1\n",
    problems: ["s.yaml:2:3: default.error_rte: unknown key"],
  },
  {
    rule: "an unknown category names the known ones",
    yaml: "categories:\n  settlement: {error_rate: 1}\n",
    problems: [
      `s.yaml:2:3: categories.settlement: unknown category "settlement" (known: ${SIM_CATEGORIES.join(", ")})`,
    ],
  },
  {
    rule: "a tail probability needs a tail_ms",
    yaml: "default:\n  latency: {median_ms: 10, tail_probability: 0.1}\n",
    problems: ["s.yaml:2:3: default.latency.tail_ms: tail_ms must be > 0 when tail_probability is set"],
  },
  {
    rule: "a burst cannot last longer than its period",
    yaml: "categories:\n  disputes:\n    burst: {every_s: 10, duration_s: 20}\n",
    problems: ["s.yaml:3:26: categories.disputes.burst.duration_s: duration_s must not exceed every_s"],
  },
  {
    rule: "an error_status must be a 5xx",
    yaml: "default: {error_rate: 1, error_status: 404}\n",
    problems: ["s.yaml:1:26: default.error_status: Too small: expected number to be >=500"],
  },
  {
    rule: "error_format is v1 or v2",
    yaml: "default: {error_format: v3}\n",
    problems: ['s.yaml:1:11: default.error_format: Invalid option: expected one of "v1"|"v2"'],
  },
  {
    rule: "every problem is reported at once, in file order",
    yaml: "name: x\ndefault:\n  error_rate: -1\n  maintenance: yes\n",
    problems: [
      "s.yaml:3:3: default.error_rate: Too small: expected number to be >=0",
      "s.yaml:4:3: default.maintenance: Invalid input: expected boolean, received string",
    ],
  },
  {
    rule: "broken YAML is reported at its position",
    yaml: "default: {error_rate: 1\n",
    problems: [
      "s.yaml:2:1: scenario: Flow map in block collection must be sufficiently indented and end with a }",
    ],
  },
];

describe("scenario files", () => {
  for (const c of INVALID) {
    it(c.rule, () => expect(problemsOf(c.yaml)).toEqual(c.problems));
  }

  it("an empty file is a scenario without faults", () => {
    expect(parseScenario("")).toEqual({ name: "unnamed", default: {}, categories: {} });
  });

  it("units in key names become milliseconds in the model", () => {
    const s = parseScenario(
      "categories: {settlements: {burst: {every_s: 60, duration_s: 5}, rate_limit: {limit: 2, window_s: 1.5}}}",
    );
    expect(s.categories.settlements).toEqual({
      burst: { everyMs: 60_000, durationMs: 5_000, status: 503 },
      rateLimit: { limit: 2, windowMs: 1_500 },
    });
  });

  it("a scenario's wire form parses back to the same scenario", () => {
    for (const name of ["healthy", "demo", "outage"] as const) {
      const scenario = shippedScenario(name);
      expect(parseScenario(JSON.stringify(scenarioToWire(scenario)))).toEqual(scenario);
    }
  });

  const dir = mkdtempSync(join(tmpdir(), "sim-scenario-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loadScenario reports problems against the file's path", () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "name: bad\ndefault: {error_rate: 3}\n");
    expect(() => loadScenario(file)).toThrow(`${file}:2:11: default.error_rate: Too big`);
  });

  it("loadScenario of a missing file says so in one line", () => {
    const file = join(dir, "missing.yaml");
    expect(() => loadScenario(file)).toThrow(`${file}:1:1: scenario: cannot read file (ENOENT)`);
  });
});

/** The profile's p99 objectives (ms), from the lead's table. */
const OBJECTIVES: Record<string, number> = {
  payment_request: 150,
  payment_confirmation: 500,
  customer_token_charge: 5000,
  read_only_identity: 500,
  payment_transaction_general: 1500,
  read_only_payment_transaction: 800,
  settlements: 6000,
  disputes: 4000,
  identity: 1000,
  account_onboarding: 2000,
  account_operations: 1000,
  messaging_placements: 500,
  personalized_message_placements: 500,
};
const Z99 = 2.3263;

/** The p99 a category's log-normal latency gives when its tail never fires. */
function bodyP99(name: "healthy" | "demo" | "outage", category: (typeof SIM_CATEGORIES)[number]): number {
  const s = shippedScenario(name);
  const latency = { ...s.default, ...s.categories[category] }.latency!;
  return latency.medianMs * Math.exp(Z99 * latency.sigma);
}

describe("shipped scenarios", () => {
  it("healthy: every category's p99 is well under its objective (at most half of it)", () => {
    for (const category of SIM_CATEGORIES) {
      expect(bodyP99("healthy", category), category).toBeLessThanOrEqual(OBJECTIVES[category]! / 2);
    }
  });

  it("healthy: only a trickle of served 4xx and nothing that fails", () => {
    const s = shippedScenario("healthy");
    expect(s.default.clientErrorRate).toBeLessThanOrEqual(0.01);
    for (const faults of [s.default, ...Object.values(s.categories)]) {
      expect(faults).not.toHaveProperty("errorRate");
      expect(faults).not.toHaveProperty("burst");
      expect(faults).not.toHaveProperty("maintenance");
    }
  });

  it("demo: settlements has 5xx bursts and disputes a tail beyond its p99 objective", () => {
    const s = shippedScenario("demo");
    expect(s.categories.settlements?.burst?.status).toBeGreaterThanOrEqual(500);
    expect(s.categories.disputes?.latency?.tailMs).toBeGreaterThan(OBJECTIVES.disputes!);
    expect(s.categories.disputes?.latency?.tailProbability).toBeGreaterThan(0);
  });

  it("outage: payment_request fails every request", () => {
    expect(shippedScenario("outage").categories.payment_request).toMatchObject({ errorRate: 1 });
  });
});
