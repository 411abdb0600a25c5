import { Agent, request } from "undici";
import { describe, expect, it } from "vitest";
import { parseScenario, startSimulator } from "../../src/sim/index.js";

const ORDER = "/ordermanagement/v1/orders/1";

describe("close()", () => {
  const IN_FLIGHT = [
    {
      rule: "returns while requests hang, and their clients see the connection drop",
      yaml: "default: {hang_probability: 1}",
    },
    {
      rule: "returns while requests wait out a long latency",
      yaml: "default: {latency: {median_ms: 60000, sigma: 0}}",
    },
    {
      rule: "returns while a slow body is trickling",
      yaml: "default: {slow_body: {bytes_per_second: 10, bytes: 100000}}",
    },
  ];
  for (const c of IN_FLIGHT) {
    it(c.rule, async () => {
      const sim = await startSimulator({ scenario: parseScenario(c.yaml) });
      const client = new Agent();
      const pending = Array.from({ length: 3 }, () =>
        request(sim.url + ORDER, { dispatcher: client }).then((r) => r.body.text()),
      );
      const outcomes = Promise.allSettled(pending);
      // Let the requests reach the simulator before closing it.
      while (Object.values(sim.requestCounts()).reduce((a, b) => a + b, 0) < 3) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await sim.close();
      const settled = await outcomes;
      expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected", "rejected"]);
      await client.destroy();
    });
  }

  it("stops listening: a new connection is refused", async () => {
    const sim = await startSimulator();
    await sim.close();
    await expect(fetch(sim.url + ORDER)).rejects.toThrow();
  });
});
