import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Dispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summaryRoute } from "../../src/agent/summary-route.js";
import { FakeClock } from "../../src/clock/fake.js";
import { systemClock } from "../../src/clock/system.js";
import { type MetricsServer, startMetricsServer } from "../../src/export/server.js";
import { Secret } from "../../src/model/secret.js";
import { createTargetDispatcher, runProbe } from "../../src/probes/index.js";
import { openEvidenceStore } from "../../src/record/store.js";
import { checkSummary } from "../../src/reports/agent-summary-schema.js";
import { fixtureConfig } from "../support/slo-config.js";
import { httpServer, httpSpec, json, type Loopback, target } from "./loopback.js";

/**
 * A target answers with invisible characters in the fields the store keeps (a right-to-left
 * override U+202E, a zero-width space, a line separator, a tag character). The store keeps them
 * as U+FFFD, as the merge of agents' summaries refuses them: an honest agent whose target sent
 * one still merges. A real server on loopback, a real store and the agent's real summary route.
 */
const INVISIBLE = ["\u202e", "\u200b", "\u2028", "\u{e0041}", "\u3164"];
const TOKEN = "invisible-text-agent-token-4d2c";

let server: Loopback;
let dir: string;
let agent: MetricsServer | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-invisible-text-"));
  server = await httpServer({
    "/rlo": (_req, res) =>
      json(res, 503, {
        error_code: `E${INVISIBLE.join("x")}1`,
        correlation_id: `c\u202e${"fdp.99"}`,
        error_messages: ["bad\u202e"],
      }),
  });
});
afterAll(async () => {
  await agent?.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("text a target answers with invisible characters", () => {
  it("is stored with U+FFFD in their place, and the agent's summary passes the merge's checks", async () => {
    const t = target(server.origin);
    const dispatcher: Dispatcher = createTargetDispatcher(t, { clock: systemClock });
    const { result } = await runProbe({ spec: httpSpec("/rlo"), target: t, dispatcher, clock: systemClock });
    await dispatcher.destroy();
    expect(result.errorCode).toBe(`E${INVISIBLE.map(() => "\ufffd").join("x")}1`);
    expect(result.correlationId).toBe("c\ufffdfdp.99");

    const month = new Date(result.ts).toISOString().slice(0, 7);
    const store = openEvidenceStore({
      dataDir: join(dir, "data"),
      clock: new FakeClock(result.ts),
      identity: { agent: "a-eu", region: "eu" },
    });
    store.record(result);
    store.flush();
    const base = fixtureConfig();
    const config = { ...base, agent: { ...base.agent, id: "a-eu", apiToken: new Secret(TOKEN) } };
    agent = await startMetricsServer({
      host: "127.0.0.1",
      port: 0,
      metrics: { serveScrape: () => undefined },
      ready: () => true,
      routes: [summaryRoute({ config: () => config, store, now: () => result.ts + 1000 })],
    });
    const answer = await fetch(`${agent.url}/api/v1/months/${month}/summary`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(answer.status).toBe(200);
    const body = await answer.json();
    expect(JSON.stringify(body).includes("\ufffd"), "the error code in the incident").toBe(true);
    const checked = checkSummary(body, month);
    expect(typeof checked === "string" ? checked : "accepted").toBe("accepted");
    store.close();
  }, 60_000);
});
