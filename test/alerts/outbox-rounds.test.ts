import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlertOutbox } from "../../src/alerts/outbox.js";
import { createReceiver } from "../../src/alerts/receivers/index.js";
import { FakeClock } from "../../src/clock/fake.js";
import { Secret } from "../../src/model/secret.js";
import { openEvidenceStore } from "../../src/record/index.js";

let dir: string;
let dispatcher: Agent;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-outbox-rounds-"));
  dispatcher = new Agent();
});
afterEach(async () => {
  await dispatcher.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("delivery rounds", () => {
  it("a pump during the rounds of two receivers gives each one more round, not rounds bouncing between them forever", async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 10));
    const store = openEvidenceStore({ dataDir: dir, clock });
    const receivers = ["a", "b"].map((id) =>
      createReceiver(
        {
          type: "webhook",
          id,
          url: "http://127.0.0.1:9/hook",
          secret: new Secret("0123456789abcdef0123"),
          timeoutMs: 1_000,
        },
        dispatcher,
      ),
    );
    const outbox = new AlertOutbox({
      ledger: store.notifications,
      receivers,
      clock,
      random: () => 0.5,
      log: () => {},
      generatorUrl: () => "http://127.0.0.1:9464/alerts",
      firing: () => [],
    });
    outbox.pump();
    outbox.pump();
    // Rounds over empty queues never wait on I/O: bouncing forever would starve this timer.
    const ticked = await Promise.race([
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 50)),
      outbox.idle().then(() => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 50))),
    ]);
    expect(ticked).toBe(true);
    await outbox.idle();
    await outbox.close();
    store.close();
  }, 10_000);
});
