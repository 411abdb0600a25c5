import { describe, expect, it } from "vitest";
import { AGENT_ALERT, alertConditions } from "../../src/alerts/conditions.js";
import { fixtureConfig } from "../support/slo-config.js";

const config = fixtureConfig();
const snapshot = { at: Date.UTC(2026, 11, 6), categories: [] } as unknown as Parameters<
  typeof alertConditions
>[1]["snapshot"];

describe("the agent's own alert on evidence it refuses to sign (issue 23, fifth audit 2)", () => {
  it("a refusal pages as SLOAgentEvidenceUnsigned for the agent's region; none while it signs", () => {
    const found = alertConditions(config, {
      snapshot,
      evidenceRefusal: "the store went back under this agent: record seq 7, …, is gone",
    });
    expect(found.map((c) => c.labels)).toEqual([
      {
        alertname: AGENT_ALERT.evidenceUnsigned,
        severity: "page",
        category: "all",
        service_class: "all",
        region: "eu",
      },
    ]);
    expect(found[0]!.annotations.summary).toBe("The slo-agent of region eu refuses to sign its evidence");
    for (const signing of [null, undefined]) {
      expect(alertConditions(config, { snapshot, evidenceRefusal: signing })).toEqual([]);
    }
  });
});
