import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHIPPED_PROFILE, startDemo } from "../../src/agent/demo.js";
import { systemClock } from "../../src/clock/system.js";
import { loadConfig } from "../../src/config/index.js";
import type { SloConfig } from "../../src/model/config.js";
import type { ProbeResult } from "../../src/model/result.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { shippedScenario } from "../../src/sim/index.js";
import { eventually } from "../support/eventually.js";

/** The value of `name{probe="<probe>"}` on a /metrics page, or undefined. */
function probeSample(text: string, name: string, probe: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(`probe="${probe}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

const DIAGNOSTICS = ["api-cert", "api-dns", "api-tcp"];

/** The id of a payment-session flow run whose create and read steps were both answered 200. */
function completedFlowRun(results: readonly ProbeResult[]): unknown {
  const steps = results.filter((r) => r.probe.startsWith("payment-session-flow/"));
  const runs = new Set(steps.map((r) => r.observed?.flow_run));
  return [...runs].find((run) =>
    ["create", "read"].every((step) =>
      steps.some((r) => r.observed?.flow_run === run && r.observed?.step === step && r.status === 200),
    ),
  );
}

describe("slo-agent demo offline: the shipped tls, dns and tcp probes and the payment-session flow", () => {
  let config: SloConfig;
  let dataDir: string;

  beforeAll(async () => {
    config = (await loadConfig(SHIPPED_PROFILE)).config;
    dataDir = await mkdtemp(join(tmpdir(), "slo-demo-kinds-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("succeed against the simulator's TLS listener and name server, and a flow run completes", async () => {
    // The shipped probe files name Klarna's production host; the demo must not need it.
    const shipped = config.probes.filter((p) => p.kind === "tls" || p.kind === "dns" || p.kind === "tcp");
    expect(shipped.map((p) => p.id).sort()).toEqual(DIAGNOSTICS);
    const demo = await startDemo({
      config,
      dataDir,
      listen: { host: "127.0.0.1", port: 0 },
      scenario: shippedScenario("healthy"),
      everyMs: 500,
      clock: systemClock,
      log: () => {},
      refreshMs: 200,
    });
    let text = "";
    try {
      await eventually(
        async () => {
          text = await (await fetch(`${demo.daemon.url}/metrics`)).text();
          return DIAGNOSTICS.every((probe) => probeSample(text, "slo_probe_success", probe) === 1);
        },
        30_000,
        "slo_probe_success 1 for api-cert, api-dns and api-tcp",
      );
      // The flow runs on its own schedule: on a fast machine the diagnostics answer before its
      // first run has finished, so wait for a completed run too (read beside the running agent).
      await eventually(
        () => {
          const reader = openEvidenceStore({ dataDir, clock: systemClock, logger: () => {}, readOnly: true });
          try {
            return completedFlowRun([...reader.results({ from: 0, to: Date.now() + 1 })]) !== undefined;
          } finally {
            reader.close();
          }
        },
        60_000,
        "a payment-session flow run with create and read answered 200",
        { intervalMs: 500 },
      );
      // The simulator's certificate is made at start, valid for 90 days.
      const expiry = probeSample(text, "slo_tls_cert_expiry_seconds", "api-cert")!;
      expect(expiry).toBeGreaterThan(89 * 86_400);
      expect(expiry).toBeLessThanOrEqual(90 * 86_400);
    } finally {
      await demo.close();
    }

    const store = openEvidenceStore({ dataDir, clock: systemClock, logger: () => {} });
    try {
      const results = [...store.results({ from: 0, to: Date.now() + 1 })];
      const dns = results.find((r) => r.probe === "api-dns" && r.error === null);
      // The shipped name, answered by the simulator's name server with the simulator's address.
      expect(dns?.observed).toMatchObject({ kind: "dns", rcode: "NOERROR", addresses: ["127.0.0.1"] });
      const cert = results.find((r) => r.probe === "api-cert" && r.error === null);
      expect(cert?.observed).toMatchObject({ kind: "tls", chain_valid: true });
      const steps = results.filter((r) => r.probe.startsWith("payment-session-flow/"));
      expect(completedFlowRun(results), JSON.stringify(steps.slice(0, 4))).toBeDefined();
    } finally {
      store.close();
    }
  }, 150_000);
});
