import { afterAll, describe, expect, it } from "vitest";
import {
  answering,
  answeringThenDown,
  cleanUp,
  closedPort,
  configFor,
  report,
  runAgent,
  seriesValue,
} from "./agent-runs.js";

/**
 * Contract section 8 end to end: `slo-agent run` as a child process against real loopback
 * servers and closed ports, then `slo-agent report` over the evidence it kept.
 */

afterAll(cleanUp);

/**
 * A provider that answers, then refuses, fails at once: a 5 s probe timeout (not 1 s) keeps a
 * loaded machine from turning its one answer into a timeout, after which it never answered.
 */
function refusalsWait(config: string): string {
  return config.replace("timeout_ms: 1000", "timeout_ms: 5000");
}

const MERCHANT = 'reason="merchant_side"';

describe.concurrent("measurement validity (contract section 8), agent and report", {
  timeout: 150_000,
}, () => {
  it("controls dead from the start are no witnesses: the provider's failures count, control_unhealthy", async () => {
    // The provider answers once, then refuses: its failures are of a target that answered
    // (one that never did is target_unreached, test/measurement/unreached-targets.test.ts).
    const config = refusalsWait(
      configFor({ provider: await answeringThenDown(1), controls: [await closedPort(), await closedPort()] }),
    );
    const run = await runAgent(
      config,
      (m) => (seriesValue(m, "slo_probe_requests_total", 'outcome="failed"') ?? 0) >= 3,
    );
    expect(seriesValue(run.metrics, "slo_probe_automatic_exclusions_total", MERCHANT)).toBeNull();
    const json = JSON.parse(report(run.dir));
    const category = json.categories[0];
    expect(json.automatic_exclusions).toEqual([]);
    expect(category.excluded).toBe(0);
    expect(category.successful).toBe(1);
    expect(category.availability_pct).toBeLessThan(50);
    expect(category.merchant_side_excluded_minutes).toBe(0);
    expect(category.measurement_problems.map((p: { kind: string }) => p.kind)).toContain("control_unhealthy");
    expect(report(run.dir, "md")).toMatch(/control\\?_unhealthy: /);
  });

  it("controls healthy, then down with the provider: the provider's failures are merchant_side, excluded and listed", async () => {
    const config = refusalsWait(
      configFor({
        provider: await answeringThenDown(1),
        controls: [await answeringThenDown(2), await answeringThenDown(2)],
      }),
    );
    const run = await runAgent(
      config,
      (m) => (seriesValue(m, "slo_probe_automatic_exclusions_total", MERCHANT) ?? 0) >= 3,
    );
    expect(seriesValue(run.metrics, "slo_probe_automatic_exclusions_total", MERCHANT)).toBeGreaterThanOrEqual(
      3,
    );
    expect(seriesValue(run.metrics, "slo_probe_requests_total", 'outcome="excluded"')).toBeGreaterThanOrEqual(
      3,
    );

    const json = JSON.parse(report(run.dir));
    const category = json.categories[0];
    const episodes = json.automatic_exclusions.filter(
      (x: { reason: string }) => x.reason === "merchant_side",
    );
    const automatic = episodes.reduce((n: number, x: { requests: number }) => n + x.requests, 0);
    expect(automatic).toBeGreaterThanOrEqual(3);
    expect(category.excluded).toBe(automatic);
    expect(episodes[0].categories).toEqual(["payment_request"]);
    expect(episodes[0].evidence.controls.map((c: { control: string }) => c.control)).toEqual(["c0", "c1"]);
    expect(episodes[0].evidence.controls[0].errors).toEqual(["connect"]);
    // All but the first request made failed; the SLA figure counts only those before the controls had a say.
    expect(category.measured_availability_pct).toBeLessThan(50);
    expect(category.merchant_side_excluded_minutes).toBeGreaterThan(0);
    expect(category.requests + category.excluded).toBeGreaterThan(category.requests);
    expect(report(run.dir, "md")).toMatch(/\| `merchant_side` \|.*control c0: \d+ failed \(connect\)/);
  });

  it("controls up and provider down: the failures are the provider's", async () => {
    const config = refusalsWait(
      configFor({ provider: await answeringThenDown(1), controls: [await answering(200)] }),
    );
    const run = await runAgent(
      config,
      (m) => (seriesValue(m, "slo_probe_requests_total", 'outcome="failed"') ?? 0) >= 3,
    );
    expect(seriesValue(run.metrics, "slo_probe_automatic_exclusions_total")).toBeNull();
    const json = JSON.parse(report(run.dir));
    expect(json.automatic_exclusions).toEqual([]);
    expect(json.categories[0].excluded).toBe(0);
    expect(json.categories[0].requests).toBeGreaterThanOrEqual(3);
    expect(json.categories[0].successful).toBe(1);
    expect(json.categories[0].availability_pct).toBeLessThan(50);
    expect(json.categories[0].measured_availability_pct).toBe(json.categories[0].availability_pct);
  });

  it("401 everywhere: served per the formula, but auth_failed, slo_probe_valid 0 and measurement_problems", async () => {
    const config = configFor({ provider: await answering(401), expect: ", expect: {status: [404]}" });
    const run = await runAgent(
      config,
      // A response must be in: before one, an early timeout on a loaded machine is target_unreached.
      (m) =>
        seriesValue(m, "slo_probe_valid", "payment-request-read") === 0 &&
        (seriesValue(m, "slo_probe_requests_total", 'outcome="served"') ?? 0) >= 1,
    );
    expect(seriesValue(run.metrics, "slo_probe_valid", 'probe="payment-request-read"')).toBe(0);
    const json = JSON.parse(report(run.dir));
    const category = json.categories[0];
    // Every response was a 401: served per the formula, and every one a measurement problem.
    expect(category.successful).toBeGreaterThan(0);
    expect(category.measurement_problems).toHaveLength(1);
    expect(category.measurement_problems[0]).toMatchObject({ kind: "auth_failed" });
    expect(category.measurement_problems[0].requests).toBe(category.successful);
    expect(report(run.dir, "html")).toContain("auth_failed: ");
  });

  it("the status the probe expects keeps slo_probe_valid at 1 and lists no problem", async () => {
    const good = await runAgent(
      configFor({ provider: await answering(404), expect: ", expect: {status: [404]}" }),
      (m) => seriesValue(m, "slo_probe_valid", "payment-request-read") === 1,
    );
    expect(seriesValue(good.metrics, "slo_probe_valid", 'probe="payment-request-read"')).toBe(1);
    expect(JSON.parse(report(good.dir)).categories[0].measurement_problems).toEqual([]);
  });

  it("a status outside expect is unexpected_status and slo_probe_valid 0", async () => {
    const bad = await runAgent(
      configFor({ provider: await answering(404), expect: ", expect: {status: [200]}" }),
      // A response must be in: before one, an early timeout on a loaded machine is target_unreached.
      (m) =>
        seriesValue(m, "slo_probe_valid", "payment-request-read") === 0 &&
        (seriesValue(m, "slo_probe_requests_total", 'outcome="served"') ?? 0) >= 1,
    );
    expect(seriesValue(bad.metrics, "slo_probe_valid", 'probe="payment-request-read"')).toBe(0);
    const problems = JSON.parse(report(bad.dir)).categories[0].measurement_problems;
    // On a loaded machine the agent's very first request may time out before the first answer:
    // target_unreached, rightly. Every answer after it is unexpected_status.
    const kinds = problems.map((p: { kind: string }) => p.kind);
    expect(kinds.filter((k: string) => k !== "target_unreached")).toEqual(["unexpected_status"]);
  });
});
