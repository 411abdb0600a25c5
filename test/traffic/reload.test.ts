import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startDaemon } from "../../src/agent/daemon.js";
import { systemClock } from "../../src/clock/system.js";
import { trafficRoutesOf } from "../../src/config/traffic-wire.js";
import type { SloConfig } from "../../src/model/config.js";
import { Secret } from "../../src/model/secret.js";
import { fixtureConfig } from "../support/slo-config.js";

// A reload that adds `traffic:` serves POST /v1/traces at once; one that removes it stops serving.

const ADMIN = "reload-admin-token-3c9e1f7a";
const TRAFFIC = "traffic-token-8b2d4e6f0a1c";

function configWith(traffic: boolean, token = TRAFFIC): SloConfig {
  const base = fixtureConfig();
  return {
    ...base,
    probes: [],
    agent: { ...base.agent, adminToken: new Secret(ADMIN) },
    ...(traffic
      ? {
          traffic: {
            token: new Secret(token),
            maxBodyBytes: 1 << 20,
            routes: trafficRoutesOf([
              {
                method: "POST",
                path: "/payments/v1/sessions",
                target: "klarna",
                category: "payment_request",
              },
            ]),
          },
        }
      : {}),
  };
}

describe("reload and the traffic endpoint (contract section 19)", () => {
  it("serves a traffic: section a reload adds, applies a new token, and stops when one removes it", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "slo-traffic-reload-"));
    let next = configWith(true);
    const daemon = await startDaemon({
      config: configWith(false),
      dataDir,
      listen: { host: "127.0.0.1", port: 0 },
      clock: systemClock,
      log: () => {},
      reloadConfig: async () => next,
    });
    const send = (token: string) =>
      fetch(`${daemon.url}/v1/traces`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ resourceSpans: [] }),
      });
    const reload = async () => {
      const answer = await fetch(`${daemon.url}/-/reload`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(answer.status).toBe(200);
    };
    try {
      const before = await send(TRAFFIC);
      expect(before.status).toBe(404);
      expect(await before.text()).toContain("traffic: is not configured");
      await reload();
      expect((await send(TRAFFIC)).status).toBe(200);
      expect((await send("not-the-traffic-token")).status).toBe(401);
      next = configWith(true, "another-traffic-token-5e7a");
      await reload();
      expect((await send(TRAFFIC)).status).toBe(401);
      expect((await send("another-traffic-token-5e7a")).status).toBe(200);
      next = configWith(false);
      await reload();
      expect((await send("another-traffic-token-5e7a")).status).toBe(404);
    } finally {
      await daemon.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
