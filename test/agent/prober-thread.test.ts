import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ProberThread } from "../../src/agent/prober-thread.js";
import type { ProbeResult } from "../../src/model/result.js";
import { httpServer, httpSpec, type Loopback, target } from "../probes/loopback.js";

let api: Loopback;
beforeAll(async () => {
  api = await httpServer({
    "/ok": (_req, res) => res.writeHead(200).end("{}"),
    "/slow": (_req, res) => void setTimeout(() => res.writeHead(200).end("{}"), 300),
  });
});
afterAll(() => api.close());

describe("the prober thread", { timeout: 60_000 }, () => {
  it("hands over every result and every run's lateness, the last batch at stop", async () => {
    const t = target(api.origin);
    const results: ProbeResult[] = [];
    const lateness: string[] = [];
    const waits: number[] = [];
    const logged: string[] = [];
    const probes = ["a", "b", "c"].map((id) =>
      httpSpec(id === "c" ? "/slow" : "/ok", { id, schedule: { kind: "every", intervalMs: 100 } }),
    );
    const prober = new ProberThread({
      config: { targets: new Map([[t.id, t]]) },
      probes,
      controls: [],
      sink: { record: (r) => results.push(r) },
      maxStallMs: 50,
      log: (_level, message) => logged.push(message),
      onLag: () => {},
      onLateness: (probe) => lateness.push(probe),
      onRunQueue: (waitedMs) => waits.push(waitedMs),
    });
    prober.start();
    // Results arrive in batches while it runs...
    await vi.waitFor(() => expect(results.length).toBeGreaterThanOrEqual(6), { timeout: 30_000 });
    // ... and a stop waits for the slow run in flight, whose result is handed over with the last batch.
    await prober.stop();
    const performed = prober.stats().reduce((sum, s) => sum + s.performed, 0);
    const started = prober.stats().reduce((sum, s) => sum + s.started, 0);
    expect(performed).toBeGreaterThanOrEqual(6);
    expect(results).toHaveLength(performed);
    expect(lateness).toHaveLength(started);
    expect(new Set(results.map((r) => r.probe))).toEqual(new Set(["a", "b", "c"]));
    // Each run's wait for a CPU, read on the prober's own thread (slo_agent_run_queue_seconds);
    // where the kernel does not tell it, one line in the log says so and no run has one.
    if (existsSync("/proc/thread-self/schedstat")) {
      expect(waits).toHaveLength(performed);
      for (const waitedMs of waits) expect(waitedMs).toBeGreaterThanOrEqual(0);
      expect(logged.filter((m) => m.includes("run-queue wait"))).toEqual([]);
    } else {
      expect(waits).toEqual([]);
      expect(logged.filter((m) => m.includes("run-queue wait"))).toHaveLength(1);
    }
  });

  it("sends its run accounting after the results it counts, and within a second of each change", async () => {
    const t = target(api.origin);
    const results = new Map<string, number>();
    const probes = ["a", "b", "c"].map((id) =>
      httpSpec("/ok", { id, schedule: { kind: "every", intervalMs: 100 } }),
    );
    const prober = new ProberThread({
      config: { targets: new Map([[t.id, t]]) },
      probes,
      controls: [],
      sink: { record: (r) => results.set(r.probe, (results.get(r.probe) ?? 0) + 1) },
      maxStallMs: 50,
      log: () => {},
      onLag: () => {},
      onLateness: () => {},
    });
    prober.start();
    const ahead: string[] = [];
    let accountings = 0;
    const sample = setInterval(() => {
      for (const s of prober.stats())
        if (s.performed > (results.get(s.probe) ?? 0))
          ahead.push(`${s.probe}: ${s.performed} > ${results.get(s.probe)}`);
    }, 5);
    try {
      for (let second = 0; second < 3; second++) {
        const before = prober.changes();
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        if (prober.changes() > before) accountings++;
      }
    } finally {
      clearInterval(sample);
      await prober.stop();
    }
    // Runs every 100 ms change it all the time: a new accounting each second, never ahead of the results.
    expect(accountings).toBe(3);
    expect(ahead).toEqual([]);
    expect(prober.stats().reduce((sum, s) => sum + s.performed, 0)).toBe(
      [...results.values()].reduce((a, b) => a + b, 0),
    );
  });
});
