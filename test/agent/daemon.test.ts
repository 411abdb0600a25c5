import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../../src/agent/daemon.js";
import { SHIPPED_PROFILE, startDemo } from "../../src/agent/demo.js";
import type { Logger } from "../../src/agent/log.js";
import { FakeClock } from "../../src/clock/fake.js";
import { systemClock } from "../../src/clock/system.js";
import { loadConfig } from "../../src/config/index.js";
import type { SloConfig } from "../../src/model/config.js";
import { DIAGNOSTIC_CATEGORY } from "../../src/model/result.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { shippedScenario } from "../../src/sim/index.js";
import { eventually } from "../support/eventually.js";

const quiet: Logger = () => {};

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one series, matched by name and a set of label="value" pairs. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return undefined;
}

describe("the daemon (slo-agent demo in-process)", () => {
  let config: SloConfig;
  let dataDir: string;

  beforeAll(async () => {
    config = (await loadConfig(SHIPPED_PROFILE)).config;
    dataDir = await mkdtemp(join(tmpdir(), "slo-daemon-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const demo = (scenario: "healthy" | "outage") =>
    startDemo({
      config,
      dataDir,
      listen: { host: "127.0.0.1", port: 0 },
      scenario: shippedScenario(scenario),
      everyMs: 250,
      clock: systemClock,
      log: quiet,
      refreshMs: 200,
    });

  it("probes every category, exports it and keeps the evidence, then replays it after a restart", async () => {
    // First life: payment_request is hard down.
    const first = await demo("outage");
    try {
      await eventually(
        async () => {
          const text = await scrape(first.daemon.url);
          return [...config.categories.keys()].every(
            (category) => (sample(text, "slo_availability_ratio", { category, window: "month" }) ?? -1) >= 0,
          );
        },
        20_000,
        "the condition",
      );
      const text = await scrape(first.daemon.url);
      expect(sample(text, "slo_availability_ratio", { category: "payment_request", window: "month" })).toBe(
        0,
      );
      expect(sample(text, "slo_availability_ratio", { category: "settlements", window: "month" })).toBe(1);
      expect(sample(text, "slo_breach", { category: "payment_request", slo: "availability" })).toBe(1);
      expect((await fetch(`${first.daemon.url}/readyz`)).status).toBe(200);
    } finally {
      await first.close();
    }

    const store = openEvidenceStore({ dataDir, clock: systemClock, logger: () => {} });
    const categories = new Set([...store.results({ from: 0, to: Date.now() + 1 })].map((r) => r.category));
    // The shipped tls/dns/tcp diagnostics are kept too, in their reserved category.
    expect([...categories].sort()).toEqual([...config.categories.keys(), DIAGNOSTIC_CATEGORY].sort());
    expect(store.verify().ok).toBe(true);
    store.close();

    // Second life, healthy: before any new failure could be probed, the month still shows the outage.
    const second = await demo("healthy");
    try {
      const text = await scrape(second.daemon.url);
      const month = sample(text, "slo_availability_ratio", { category: "payment_request", window: "month" });
      expect(month).toBeDefined();
      expect(month!).toBeLessThan(0.5);
    } finally {
      await second.close();
    }

    const reopened = openEvidenceStore({ dataDir, clock: systemClock, logger: () => {} });
    const runs = reopened.runIntervals({ from: 0, to: Date.now() + 1 });
    expect(runs).toHaveLength(2);
    expect(runs.every((run) => run.end !== null)).toBe(true);
    reopened.close();
  }, 90_000);

  it("a clock behind the newest record of the log is said at start, with the gap", async () => {
    const dir = await mkdtemp(join(tmpdir(), "slo-daemon-clock-"));
    try {
      const store = openEvidenceStore({ dataDir: dir, clock: systemClock, logger: () => {} });
      store.recordInput("config", { written: "with the right clock" });
      store.close();
      const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
      const behind = 30 * 86_400_000;
      const running = await startDaemon({
        config: { ...config, probes: [] },
        dataDir: dir,
        listen: { host: "127.0.0.1", port: 0 },
        clock: new FakeClock(Date.now() - behind),
        log: (level, message, fields) => lines.push({ level, message, ...(fields ? { fields } : {}) }),
      });
      await running.close();
      const said = lines.filter((l) => l.message.startsWith("this host's clock is behind"));
      expect(said).toHaveLength(1);
      expect(said[0]!.level).toBe("warn");
      expect(Number(said[0]!.fields?.behind_s)).toBeGreaterThanOrEqual(behind / 1000 - 5);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a start that cannot listen fails without recording a monitored run", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), "slo-daemon-busy-"));
    try {
      await expect(
        startDaemon({
          config,
          dataDir: dir,
          listen: { host: "127.0.0.1", port },
          clock: systemClock,
          log: quiet,
        }),
      ).rejects.toThrow(/EADDRINUSE/);
      const store = openEvidenceStore({ dataDir: dir, clock: systemClock, logger: () => {} });
      expect(store.runIntervals({ from: 0, to: Date.now() + 1 })).toEqual([]);
      store.close();
    } finally {
      busy.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
