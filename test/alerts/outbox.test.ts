import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Agent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlertOutbox } from "../../src/alerts/outbox.js";
import { createReceiver } from "../../src/alerts/receivers/index.js";
import { type AlertNotification, alertKey } from "../../src/alerts/types.js";
import { FakeClock } from "../../src/clock/fake.js";
import { Secret } from "../../src/model/secret.js";
import { type EvidenceStore, openEvidenceStore } from "../../src/record/index.js";

const START = Date.UTC(2026, 10, 10, 12, 0, 0);
const SECRET = "webhook-secret-0123456789";
const MINUTE = 60_000;

interface Received {
  readonly body: string;
  readonly timestamp: string;
  readonly signature: string;
}

/** A webhook endpoint on loopback that answers `status()` and keeps what it accepted. */
async function webhookServer(status: () => number) {
  const accepted: Received[] = [];
  let refused = 0;
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const code = status();
      if (code === 200) {
        accepted.push({
          body,
          timestamp: String(request.headers["x-slo-agent-timestamp"]),
          signature: String(request.headers["x-slo-agent-signature"]),
        });
      } else refused++;
      response.writeHead(code).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, accepted, refused: () => refused, close: () => new Promise((r) => server.close(r)) };
}

function notification(alertname: string, status: "firing" | "resolved", at: number): AlertNotification {
  const labels = {
    alertname,
    category: "payment_request",
    service_class: "transaction_critical",
    region: "eu",
    severity: "page",
  };
  return {
    key: alertKey(labels),
    status,
    reminder: false,
    labels,
    annotations: {
      summary: `${alertname} ${status}`,
      description: "d",
      runbook_url: "https://runbooks.test/x",
    },
    startsAt: START,
    endsAt: status === "resolved" ? at : null,
    at,
  };
}

let dir: string;
let dispatcher: Agent;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-outbox-"));
  dispatcher = new Agent();
});
afterEach(async () => {
  await dispatcher.close();
  rmSync(dir, { recursive: true, force: true });
});

function outboxOn(store: EvidenceStore, clock: FakeClock, url: string) {
  const receiver = createReceiver(
    { type: "webhook", id: "hook", url, secret: new Secret(SECRET), timeoutMs: 5_000 },
    dispatcher,
  );
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
  return { outbox, logs };
}

describe("alert notification queue", () => {
  it("a receiver down for an hour gets every notification in order when it returns, each once, across a restart", async () => {
    let up = false;
    const hook = await webhookServer(() => (up ? 200 : 503));
    const clock = new FakeClock(START);
    let store = openEvidenceStore({ dataDir: dir, clock });
    let { outbox, logs } = outboxOn(store, clock, hook.url);

    outbox.enqueue([notification("A", "firing", clock.now()), notification("B", "firing", clock.now())]);
    await outbox.idle();
    for (let minute = 0; minute < 60; minute++) {
      clock.advance(MINUTE);
      if (minute === 30) outbox.enqueue([notification("A", "resolved", clock.now())]);
      await outbox.idle();
    }
    expect(hook.accepted).toEqual([]);
    expect(hook.refused()).toBeGreaterThan(3);
    // Retries back off: far fewer attempts than the 60 minutes would allow at one a minute... or a second.
    expect(hook.refused()).toBeLessThan(30);
    expect(store.notifications.depth().get("hook")).toBe(3);
    expect(logs.join("\n")).not.toContain(SECRET);

    // The agent restarts while the receiver is still down; then the receiver returns.
    await outbox.close();
    store.close();
    store = openEvidenceStore({ dataDir: dir, clock });
    ({ outbox, logs } = outboxOn(store, clock, hook.url));
    up = true;
    clock.advance(5 * MINUTE);
    outbox.pump();
    await outbox.idle();

    const bodies = hook.accepted.map(
      (r) => JSON.parse(r.body) as { status: string; alert: { labels: { alertname: string } } },
    );
    expect(bodies.map((b) => `${b.alert.labels.alertname} ${b.status}`)).toEqual([
      "A firing",
      "B firing",
      "A resolved",
    ]);
    expect(store.notifications.depth().get("hook")).toBeUndefined();

    // Nothing delivered is sent again, by this outbox or after another restart.
    clock.advance(10 * MINUTE);
    outbox.pump();
    await outbox.idle();
    await outbox.close();
    store.close();
    store = openEvidenceStore({ dataDir: dir, clock });
    ({ outbox } = outboxOn(store, clock, hook.url));
    outbox.pump();
    await outbox.idle();
    expect(hook.accepted).toHaveLength(3);
    await outbox.close();
    store.close();
    await hook.close();
  });

  it("every webhook request carries a timestamped HMAC-SHA256 signature of timestamp.body", async () => {
    const hook = await webhookServer(() => 200);
    const clock = new FakeClock(START);
    const store = openEvidenceStore({ dataDir: dir, clock });
    const { outbox } = outboxOn(store, clock, hook.url);
    outbox.enqueue([notification("A", "firing", clock.now())]);
    await outbox.idle();
    const [received] = hook.accepted;
    expect(received!.timestamp).toBe(String(START / 1000));
    const expected = createHmac("sha256", SECRET)
      .update(`${received!.timestamp}.${received!.body}`)
      .digest("hex");
    expect(received!.signature).toBe(`sha256=${expected}`);
    const tampered = createHmac("sha256", SECRET)
      .update(`${Number(received!.timestamp) + 1}.${received!.body}`)
      .digest("hex");
    expect(received!.signature).not.toBe(`sha256=${tampered}`);
    await outbox.close();
    store.close();
    await hook.close();
  });

  it("an undelivered reminder is replaced by a newer one instead of piling up", async () => {
    const hook = await webhookServer(() => 503);
    const clock = new FakeClock(START);
    const store = openEvidenceStore({ dataDir: dir, clock });
    const { outbox } = outboxOn(store, clock, hook.url);
    const reminder = { ...notification("A", "firing", clock.now()), reminder: true };
    outbox.enqueue([notification("A", "firing", clock.now()), reminder, reminder, reminder]);
    await outbox.idle();
    expect(store.notifications.depth().get("hook")).toBe(2);
    await outbox.close();
    store.close();
    await hook.close();
  });

  it("a retry while another writer holds the store's lock neither throws nor sends twice: outcomes wait until the store takes them", async () => {
    let up = false;
    const hook = await webhookServer(() => (up ? 200 : 503));
    const clock = new FakeClock(START);
    const store = openEvidenceStore({ dataDir: dir, clock });
    const { outbox, logs } = outboxOn(store, clock, hook.url);
    outbox.enqueue([notification("A", "firing", clock.now())]);
    await outbox.idle();
    expect(hook.refused()).toBe(1);

    // Another connection (an import, a backup) takes the write lock: a retry fails and cannot be recorded.
    const holder = new Database(store.path);
    holder.exec("BEGIN IMMEDIATE");
    try {
      clock.advance(MINUTE);
      outbox.pump();
      await outbox.idle();
      expect(hook.refused()).toBe(2);
      // The receiver accepts; the store cannot record it, so it is remembered, and not sent again.
      up = true;
      for (let i = 0; i < 5; i++) {
        clock.advance(MINUTE);
        outbox.pump();
        await outbox.idle();
      }
      expect(hook.accepted).toHaveLength(1);
      expect(logs.join("\n")).toMatch(/cannot record deliveries \(SQLITE_BUSY/);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    clock.advance(MINUTE);
    outbox.pump();
    await outbox.idle();
    expect(hook.accepted).toHaveLength(1);
    expect(store.notifications.depth().get("hook")).toBeUndefined();
    expect(logs.join("\n")).toContain("records deliveries again");
    await outbox.close();
    store.close();
    await hook.close();
  });
});
