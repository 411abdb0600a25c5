import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { effectiveConfiguration } from "../../src/config/fingerprint.js";
import type { SloConfig, Target } from "../../src/model/config.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { buildMonthlyReport } from "../../src/reports/index.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * The report says which targets the month was measured against from the configurations the agent
 * recorded in its evidence log, not from the configuration at hand when the report is written:
 * evidence measured against the simulator is not reported as the provider's playground.
 */
const OCTOBER = Date.UTC(2026, 9, 1);

function withTarget(baseUrl: string): SloConfig {
  const target = {
    id: "klarna",
    baseUrl,
    environment: "simulator",
    auth: { type: "none" },
    headers: {},
    maxRequestsPerSecond: null,
  } as unknown as Target;
  return fixtureConfig({ targets: new Map([["klarna", target]]) });
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-context-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the report's targets are those measured", () => {
  it.each([
    [
      "from the configuration recorded during the month",
      ["http://127.0.0.1:8080"],
      ["http://127.0.0.1:8080"],
    ],
    [
      "every base URL a target had in the month (a reload changed it)",
      ["http://127.0.0.1:8080", "https://api.playground.klarna.com"],
      ["http://127.0.0.1:8080", "https://api.playground.klarna.com"],
    ],
    ["the current configuration's when none was recorded (imported data)", [], ["https://api.klarna.com"]],
  ])("%s", (_rule, recorded, shown) => {
    const clock = new FakeClock(OCTOBER + 3_600_000);
    const store = openEvidenceStore({ dataDir: dir, clock, batchMs: 0 });
    try {
      for (const url of recorded) {
        store.recordInput("config", effectiveConfiguration(withTarget(url)));
        clock.advance(86_400_000);
      }
      const report = buildMonthlyReport({
        config: withTarget("https://api.klarna.com"),
        store,
        month: "2026-10",
        now: OCTOBER + 40 * 86_400_000,
      });
      expect(report.context.targets).toEqual(shown.map((base_url) => ({ id: "klarna", base_url })));
    } finally {
      store.close();
    }
  });
});
