import { describe, expect, it } from "vitest";
import { ask, withSimulator } from "./simulator-fixture.js";

const SESSION = "/payments/v1/sessions/00000000-0000-0000-0000-000000000000";
const HEALTHY = "name: test\ndefault: {latency: {median_ms: 1, sigma: 0}}\n";

describe("admin API under /__sim/", () => {
  it("GET /__sim/scenario answers the scenario in force in its YAML/JSON wire form", async () => {
    await withSimulator(
      "name: calm\ncategories: {settlements: {burst: {every_s: 600, duration_s: 30}}}",
      async (sim, client) => {
        const answer = await ask(client, `${sim.url}/__sim/scenario`);
        expect(answer.status).toBe(200);
        expect(answer.json).toEqual({
          version: 1,
          name: "calm",
          default: {},
          categories: { settlements: { burst: { every_s: 600, duration_s: 30, status: 503 } } },
        });
      },
    );
  });

  it("PATCH a category scripts an outage live, and PATCH {} clears it", async () => {
    await withSimulator(HEALTHY, async (sim, client) => {
      const patch = `${sim.url}/__sim/scenario/categories/payment_request`;
      expect((await ask(client, sim.url + SESSION)).status).toBe(200);

      const down = await ask(client, patch, { method: "PATCH", body: '{"error_rate":1}' });
      expect(down.status).toBe(200);
      expect(down.json).toMatchObject({ error_rate: 1, latency: { median_ms: 1 } });
      expect((await ask(client, sim.url + SESSION)).status).toBe(500);
      expect(sim.scenario().categories.payment_request).toMatchObject({ errorRate: 1 });

      await ask(client, patch, { method: "PATCH", body: "{}" });
      expect((await ask(client, sim.url + SESSION)).status).toBe(200);
      expect(sim.scenario().categories.payment_request).toBeUndefined();
    });
  });

  it("PATCH {} restores what the scenario itself says for the category", async () => {
    await withSimulator("categories: {payment_request: {client_error_rate: 1}}", async (sim, client) => {
      const patch = `${sim.url}/__sim/scenario/categories/payment_request`;
      await ask(client, patch, { method: "PATCH", body: '{"maintenance":true}' });
      expect((await ask(client, sim.url + SESSION)).status).toBe(503);
      await ask(client, patch, { method: "PATCH", body: "{}" });
      expect((await ask(client, sim.url + SESSION)).status).toBe(400);
    });
  });

  it("PUT /__sim/scenario replaces the scenario, from YAML or JSON", async () => {
    await withSimulator(HEALTHY, async (sim, client) => {
      const yaml = await ask(client, `${sim.url}/__sim/scenario`, {
        method: "PUT",
        body: "name: down\ndefault:\n  maintenance: true\n",
      });
      expect(yaml.status).toBe(200);
      expect((await ask(client, sim.url + SESSION)).status).toBe(503);
      expect(sim.scenario().name).toBe("down");

      const json = await ask(client, `${sim.url}/__sim/scenario`, { method: "PUT", body: '{"name":"up"}' });
      expect(json.status).toBe(200);
      expect((await ask(client, sim.url + SESSION)).status).toBe(200);
    });
  });

  const INVALID: {
    rule: string;
    method: string;
    path: string;
    body: string;
    status: number;
    error: string;
  }[] = [
    {
      rule: "PUT with an out-of-range value is 400 naming the line and field",
      method: "PUT",
      path: "/__sim/scenario",
      body: "name: bad\ndefault:\n  error_rate: 1.5\n",
      status: 400,
      error: "PUT /__sim/scenario:3:3: default.error_rate: Too big: expected number to be <=1",
    },
    {
      rule: "PUT with an unknown key is 400",
      method: "PUT",
      path: "/__sim/scenario",
      body: "defaults: {}\n",
      status: 400,
      error: "PUT /__sim/scenario:1:1: defaults: unknown key",
    },
    {
      rule: "PATCH with an unknown fault is 400",
      method: "PATCH",
      path: "/__sim/scenario/categories/disputes",
      body: '{"error_rat": 1}',
      status: 400,
      error: "PATCH /__sim/scenario/categories/disputes:1:2: error_rat: unknown key",
    },
    {
      rule: "PATCH of an unknown category is 404 listing the known ones",
      method: "PATCH",
      path: "/__sim/scenario/categories/dispute",
      body: "{}",
      status: 404,
      error: 'unknown category "dispute" (known: payment_request,',
    },
    {
      rule: "an unknown admin endpoint is 404",
      method: "GET",
      path: "/__sim/nothing",
      body: "",
      status: 404,
      error: "no admin endpoint GET /__sim/nothing",
    },
  ];
  for (const c of INVALID) {
    it(`${c.rule}, and changes nothing`, async () => {
      await withSimulator(HEALTHY, async (sim, client) => {
        const before = sim.scenario();
        const answer = await ask(client, sim.url + c.path, {
          method: c.method,
          ...(c.body ? { body: c.body } : {}),
        });
        expect(answer.status).toBe(c.status);
        expect((answer.json as { error: string }).error).toContain(c.error);
        expect(sim.scenario()).toEqual(before);
      });
    });
  }

  it("GET /__sim/stats counts requests per category and outcome, never admin requests", async () => {
    await withSimulator("categories: {disputes: {error_rate: 1}}", async (sim, client) => {
      await ask(client, sim.url + SESSION);
      await ask(client, sim.url + SESSION);
      await ask(client, `${sim.url}/v2/disputes`);
      await ask(client, `${sim.url}/nowhere`);
      await ask(client, `${sim.url}/__sim/scenario`);
      const stats = await ask(client, `${sim.url}/__sim/stats`);
      expect(stats.json).toEqual({
        total: 4,
        requests: { payment_request: 2, disputes: 1, unmatched: 1 },
        outcomes: {
          payment_request: { answered: 2 },
          disputes: { server_error: 1 },
          unmatched: { answered: 1 },
        },
      });
      expect(sim.requestCounts()).toEqual({ payment_request: 2, disputes: 1, unmatched: 1 });
    });
  });
});
