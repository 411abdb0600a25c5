import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.js";

let sim: RunningSimulator | null = null;
afterEach(async () => {
  await sim?.close();
  sim = null;
});

/** A request with the Host header a browser would send (fetch cannot set Host). */
function ask(
  port: number,
  path: string,
  headers: Record<string, string>,
  method = "GET",
  body = "",
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const PATCH_DOWN = ["/__sim/scenario/categories/payment_request", "PATCH", '{"error_rate":1}'] as const;

describe("the simulator's admin API is for loopback clients only", () => {
  it("refuses a DNS-rebound page (Host: its own name) with 403 and changes nothing", async () => {
    sim = await startSimulator();
    const [path, method, body] = PATCH_DOWN;
    const rebound = await ask(sim.port, path, { host: `attacker.example:${sim.port}` }, method, body);
    expect(rebound.status).toBe(403);
    expect(rebound.text).toContain("Host header must be localhost, 127.0.0.1 or [::1]");
    expect(sim.scenario().categories.payment_request).toBeUndefined();
    expect((await ask(sim.port, "/__sim/stats", {})).status).toBe(200);
  });

  it.each(["127.0.0.1", "localhost", "[::1]", "LOCALHOST"])(
    "accepts Host: %s with the port",
    async (name) => {
      sim = await startSimulator();
      const [path, method, body] = PATCH_DOWN;
      const answer = await ask(sim.port, path, { host: `${name}:${sim.port}` }, method, body);
      expect(answer.status).toBe(200);
      expect(sim.scenario().categories.payment_request).toMatchObject({ errorRate: 1 });
    },
  );

  it("leaves the simulated API itself open to any Host, like the real one", async () => {
    sim = await startSimulator();
    const answer = await ask(sim.port, "/payments/v1/sessions/0", { host: "api.playground.klarna.com" });
    expect(answer.status).not.toBe(403);
  });

  it("refuses to listen off loopback unless allowed, and then requires the admin token", async () => {
    await expect(startSimulator({ host: "0.0.0.0" })).rejects.toThrow(
      "simulator: refusing to listen on 0.0.0.0: it is for loopback (127.0.0.1, ::1) only",
    );
    sim = await startSimulator({ host: "0.0.0.0", allowNonLoopback: true });
    expect((await ask(sim.port, "/__sim/stats", { host: "sim.internal" })).status).toBe(403);
    await sim.close();
    sim = await startSimulator({ host: "0.0.0.0", allowNonLoopback: true, adminToken: "sim-admin-0b7e" });
    expect((await ask(sim.port, "/__sim/stats", { host: "sim.internal" })).status).toBe(403);
    const wrong = { host: "sim.internal", authorization: "Bearer nope" };
    expect((await ask(sim.port, "/__sim/stats", wrong)).status).toBe(403);
    const right = { host: "sim.internal", authorization: "Bearer sim-admin-0b7e" };
    expect((await ask(sim.port, "/__sim/stats", right)).status).toBe(200);
  });
});
