import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../../src/clock/system.js";
import { loadConfig } from "../../../src/config/index.js";
import type { ProbeResult } from "../../../src/model/result.js";
import { ProbeRunner } from "../../../src/probes/index.js";
import { ConfigDirs, minimalSlo } from "../../config/config-dir.js";
import { httpServer, json, type Loopback } from "../loopback.js";

/** Rate limits and pauses are per request to the provider: each step of a flow takes its own slot. */

const arrivals: { path: string; at: number }[] = [];
let api: Loopback;

beforeAll(async () => {
  const ok = (path: string) => (_req: unknown, res: Parameters<typeof json>[0]) => {
    arrivals.push({ path, at: performance.now() });
    json(res, 200, {});
  };
  api = await httpServer({
    "/a": ok("/a"),
    "/b": ok("/b"),
    "/c": ok("/c"),
    "/cleanup": ok("/cleanup"),
    "/limited": (_req, res) => {
      arrivals.push({ path: "/limited", at: performance.now() });
      json(res, 429, { error_code: "TOO_MANY_REQUESTS" }, { "retry-after": "120" });
    },
  });
});
afterAll(() => api.close());

const dirs = new ConfigDirs();
afterEach(async () => {
  arrivals.length = 0;
  await dirs.remove();
});

async function run(flow: string, ratePerSecond: number | null) {
  const cap = ratePerSecond === null ? "" : `    max_requests_per_second: ${ratePerSecond}\n`;
  const targets = `targets:\n  klarna:\n    base_url: ${api.origin}\n    environment: simulator\n${cap}`;
  const dir = await dirs.create({ "slo.yaml": minimalSlo({ targets, probes: `probes:\n${flow}` }) });
  const { config } = await loadConfig(join(dir, "slo.yaml"), { env: {} });
  const results: ProbeResult[] = [];
  const runner = new ProbeRunner({ clock: systemClock, config, sink: { record: (r) => results.push(r) } });
  const startedAt = performance.now();
  const outcome = await runner.execute(config.probes[0]!, Date.now());
  const pausedUntil = runner.pausedUntil("klarna");
  await runner.close();
  return { outcome, results, pausedUntil, startedAt };
}

const flowOf = (timeoutMs: number, steps: string[], cleanup: string[] = []) =>
  `  - id: f
    kind: flow
    category: payment_request
    target: klarna
    every: 5m
    timeout_ms: ${timeoutMs}
    steps:
${steps.map((path, i) => `      - {id: s${i}, path: ${path}}`).join("\n")}
    finally:
${cleanup.map((path, i) => `      - {id: cleanup${i}, path: ${path}}`).join("\n")}${cleanup.length === 0 ? "      []" : ""}
`;

describe("a flow under its target's politeness", () => {
  it("waits for a slot per step: at 1 request/s its two steps are a second apart", async () => {
    const { results, startedAt } = await run(flowOf(5_000, ["/a", "/b"]), 1);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(arrivals.map((a) => a.path)).toEqual(["/a", "/b"]);
    // The first step took the bucket's one token after the run began; the second waited for the
    // next, a second later (measured from the start: the first request's own latency varies).
    expect(arrivals[1]!.at - startedAt).toBeGreaterThanOrEqual(990);
  });

  it("a step that gets no slot within its timeout is not sent and not a failure; the rest are not run", async () => {
    const { outcome, results } = await run(flowOf(200, ["/a", "/b", "/c"]), 1);
    expect(outcome).toBe("performed");
    expect(arrivals.map((a) => a.path)).toEqual(["/a"]);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ probe: "f/s0", status: 200, error: null });
    expect(results[0]!.observed).toMatchObject({
      held_step: "s1",
      held_back: "throttled",
      not_run: ["s1", "s2"],
      flow_steps: 1,
    });
  });

  it("a 429 in one step pauses the target at once: the flow's cleanup is not sent into the pause", async () => {
    const { results, pausedUntil } = await run(flowOf(5_000, ["/limited", "/b"], ["/cleanup"]), null);
    expect(arrivals.map((a) => a.path)).toEqual(["/limited"]);
    expect(results.map((r) => [r.probe, r.status])).toEqual([["f/s0", 429]]);
    expect(results[0]!.observed).toMatchObject({ failed_step: "s0", not_run: ["s1", "cleanup0"] });
    expect(pausedUntil).toBeGreaterThan(Date.now() + 100_000);
  });
});
