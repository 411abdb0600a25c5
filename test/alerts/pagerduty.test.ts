import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlertOutbox } from "../../src/alerts/outbox.js";
import { createReceiver } from "../../src/alerts/receivers/index.js";
import { type AlertNotification, alertKey } from "../../src/alerts/types.js";
import { FakeClock } from "../../src/clock/fake.js";
import { Secret } from "../../src/model/secret.js";
import { openEvidenceStore } from "../../src/record/index.js";

const START = Date.UTC(2026, 10, 10, 12, 0, 0);
const ROUTING_KEY = "R0123456789abcdef0123456789abcde";

interface Incident {
  status: "triggered" | "resolved";
  summary: string;
  severity: string;
  triggers: number;
}

/**
 * The Events API v2 enqueue endpoint as PagerDuty documents it: 202 with the dedup_key for a valid
 * event, 400 "invalid event" with errors otherwise, 429 when throttled; incidents by dedup_key.
 */
async function eventsApi(options: { throttleFirst: number }) {
  const incidents = new Map<string, Incident>();
  const invalid: string[] = [];
  let throttle = options.throttleFirst;
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const answer = (status: number, json: unknown) =>
        response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
      if (request.method !== "POST" || request.url !== "/v2/enqueue") return answer(404, {});
      if (throttle-- > 0)
        return answer(429, {
          status: "throttle event",
          message: "Requests for this service are arriving too quickly.",
        });
      const event = JSON.parse(body) as {
        routing_key?: string;
        event_action?: string;
        dedup_key?: string;
        payload?: { summary?: string; source?: string; severity?: string };
      };
      const errors: string[] = [];
      if (event.routing_key !== ROUTING_KEY) errors.push("'routing_key' is invalid");
      if (!["trigger", "acknowledge", "resolve"].includes(event.event_action ?? ""))
        errors.push("'event_action' is invalid");
      if (event.event_action === "trigger") {
        const p = event.payload;
        if (!p?.summary || p.summary.length > 1024) errors.push("'payload.summary' is missing or too long");
        if (!p?.source) errors.push("'payload.source' is missing");
        if (!["critical", "error", "warning", "info"].includes(p?.severity ?? ""))
          errors.push("'payload.severity' is invalid");
      } else if (!event.dedup_key) errors.push("'dedup_key' is required");
      if (errors.length > 0) {
        invalid.push(...errors);
        return answer(400, { status: "invalid event", message: "Event object is invalid", errors });
      }
      const key = event.dedup_key!;
      if (event.event_action === "trigger") {
        const open = incidents.get(key);
        if (open?.status === "triggered") open.triggers++;
        else
          incidents.set(key, {
            status: "triggered",
            summary: event.payload!.summary!,
            severity: event.payload!.severity!,
            triggers: 1,
          });
      } else if (event.event_action === "resolve") {
        const open = incidents.get(key);
        if (open) open.status = "resolved";
      }
      answer(202, { status: "success", message: "Event processed", dedup_key: key });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/enqueue`;
  return { url, incidents, invalid, close: () => new Promise((r) => server.close(r)) };
}

function notification(status: "firing" | "resolved", reminder = false): AlertNotification {
  const labels = {
    alertname: "SLOErrorBudgetBurn",
    category: "payment_request",
    service_class: "transaction_critical",
    region: "eu",
    severity: "page",
  };
  return {
    key: alertKey(labels),
    status,
    reminder,
    labels,
    annotations: { summary: `burning (${status})`, description: "d", runbook_url: "https://runbooks.test/x" },
    startsAt: START,
    endsAt: status === "resolved" ? START + 600_000 : null,
    at: START,
  };
}

let dir: string;
let dispatcher: Agent;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-pagerduty-"));
  dispatcher = new Agent();
});
afterEach(async () => {
  await dispatcher.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the pagerduty receiver (Events API v2)", () => {
  it("opens one incident per alert episode, folds reminders into it, resolves it with the same dedup_key, and retries a throttled event", async () => {
    const api = await eventsApi({ throttleFirst: 1 });
    const clock = new FakeClock(START);
    const store = openEvidenceStore({ dataDir: dir, clock });
    const receiver = createReceiver(
      { type: "pagerduty", id: "pd", routingKey: new Secret(ROUTING_KEY), url: api.url, timeoutMs: 5_000 },
      dispatcher,
    );
    expect(receiver.validate()).toEqual([]);
    const logs: string[] = [];
    const outbox = new AlertOutbox({
      ledger: store.notifications,
      receivers: [receiver],
      clock,
      random: () => 0.5,
      log: (_level, message) => logs.push(message),
      generatorUrl: () => "http://127.0.0.1:9464/alerts",
      firing: () => [],
    });
    outbox.enqueue([notification("firing"), notification("firing", true), notification("resolved")]);
    for (let i = 0; i < 5; i++) {
      await outbox.idle();
      clock.advance(60_000);
      outbox.pump();
    }
    await outbox.idle();
    expect(api.invalid).toEqual([]);
    expect([...api.incidents.values()]).toEqual([
      { status: "resolved", summary: "burning (firing)", severity: "critical", triggers: 2 },
    ]);
    expect(logs.join("\n")).toContain("HTTP 429");
    expect(logs.join("\n")).not.toContain(ROUTING_KEY);
    expect(store.notifications.depth().get("pd")).toBeUndefined();
    await outbox.close();
    store.close();
    await api.close();
  });
});
