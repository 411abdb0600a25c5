import type { IncomingMessage } from "node:http";
import type { Dispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import type { HttpProbeSpec, Target } from "../../src/model/config.js";
import { createTargetDispatcher, runProbe } from "../../src/probes/index.js";
import { httpServer, httpSpec, json, type Loopback, target } from "./loopback.js";

/**
 * A 307 or 308 repeats the request with its body. To another origin that hands the probe's body
 * (a payment, a credential in JSON) to a server nobody configured: not followed. Within the
 * origin it still is. Real servers on loopback.
 */
const BODY = '{"card":"4111111111111111","note":"redirect-body-canary"}';
const bodies = new Map<string, string[]>();
let provider: Loopback;
let elsewhere: Loopback;

function keep(name: string, req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let text = "";
    req.on("data", (c) => {
      text += c;
    });
    req.on("end", () => {
      bodies.set(name, [...(bodies.get(name) ?? []), text]);
      resolve();
    });
  });
}

beforeAll(async () => {
  elsewhere = await httpServer({
    "/collect": async (req, res) => {
      await keep("elsewhere", req);
      json(res, 200, {});
    },
  });
  provider = await httpServer({
    "/pay-307": async (req, res) => {
      await keep("provider", req);
      res.writeHead(307, { location: `${elsewhere.origin}/collect` }).end();
    },
    "/pay-308": async (req, res) => {
      await keep("provider", req);
      res.writeHead(308, { location: `${elsewhere.origin}/collect` }).end();
    },
    "/pay-local": async (req, res) => {
      await keep("provider", req);
      res.writeHead(307, { location: "/landing" }).end();
    },
    "/landing": async (req, res) => {
      await keep("landing", req);
      json(res, 200, {});
    },
  });
});
afterAll(async () => {
  await Promise.all([provider?.close(), elsewhere?.close()]);
});

async function probe(t: Target, spec: HttpProbeSpec) {
  const dispatcher: Dispatcher = createTargetDispatcher(t, { clock: systemClock });
  try {
    return await runProbe({ spec, target: t, dispatcher, clock: systemClock });
  } finally {
    await dispatcher.destroy();
  }
}

const post = (path: string) => httpSpec(path, { method: "POST", body: BODY, followRedirects: 3 });

describe("HTTP probe: a redirect that would repeat a body", () => {
  for (const status of [307, 308]) {
    it(`a ${status} to another origin is not followed when the request has a body`, async () => {
      bodies.clear();
      const { result } = await probe(target(provider.origin), post(`/pay-${status}`));
      expect(result.status).toBe(status);
      expect(result.detail).toBe(`${status} to ${elsewhere.origin} not followed: the request has a body`);
      expect(bodies.get("provider")).toEqual([BODY]);
      expect(bodies.get("elsewhere")).toBeUndefined();
    });
  }

  it("a 307 within the origin is followed with its body", async () => {
    bodies.clear();
    const { result } = await probe(target(provider.origin), post("/pay-local"));
    expect(result).toMatchObject({ status: 200, error: null });
    expect(bodies.get("landing")).toEqual([BODY]);
  });

  it("a 307 to another origin without a body is still followed", async () => {
    bodies.clear();
    const { result } = await probe(target(provider.origin), httpSpec("/pay-307", { followRedirects: 3 }));
    expect(result).toMatchObject({ status: 200, error: null });
    expect(bodies.get("elsewhere")).toEqual([""]);
  });
});
