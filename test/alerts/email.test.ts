import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlertOutbox } from "../../src/alerts/outbox.js";
import { createReceiver } from "../../src/alerts/receivers/index.js";
import { type AlertNotification, alertKey } from "../../src/alerts/types.js";
import { FakeClock } from "../../src/clock/fake.js";
import type { ReceiverSpec } from "../../src/model/config.js";
import { Secret } from "../../src/model/secret.js";
import { openEvidenceStore } from "../../src/record/index.js";

const START = Date.UTC(2026, 10, 10, 12, 0, 0);
const PASSWORD = "smtp-password-never-logged";

interface Mail {
  readonly tls: boolean;
  readonly from: string;
  readonly to: string[];
  readonly data: string;
}

/** Debian's aiosmtpd on loopback (test/support/smtp-server.py): STARTTLS required, or none offered. */
async function smtpServer(args: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn("/usr/bin/python3", [
    join(import.meta.dirname, "../support/smtp-server.py"),
    ...args,
  ]);
  const mails: Mail[] = [];
  let buffered = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`smtp server exited ${code}`)));
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = JSON.parse(buffered.slice(0, newline)) as { port?: number } & Mail;
        buffered = buffered.slice(newline + 1);
        if (line.port !== undefined) resolve(line.port);
        else mails.push(line);
        newline = buffered.indexOf("\n");
      }
    });
  });
  return { port, mails, close: () => child.kill() };
}

function notification(status: "firing" | "resolved"): AlertNotification {
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
    reminder: false,
    labels,
    annotations: { summary: `burning (${status})`, description: "d", hints: "Codes that count: X" },
    startsAt: START,
    endsAt: status === "resolved" ? START + 600_000 : null,
    at: START,
  };
}

let dir: string;
let caFile: string;
let keyFile: string;
const dispatcher = new Agent();
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-email-"));
  caFile = join(dir, "relay.pem");
  keyFile = join(dir, "relay.key");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      keyFile,
      "-out",
      caFile,
    ],
    { stdio: "ignore" },
  );
});
afterAll(async () => {
  await dispatcher.close();
  rmSync(dir, { recursive: true, force: true });
});

async function deliver(port: number, notifications: AlertNotification[], withAuth = false) {
  const clock = new FakeClock(START);
  const store = openEvidenceStore({ dataDir: mkdtempSync(join(dir, "store-")), clock });
  const spec: ReceiverSpec = {
    type: "email",
    id: "mail",
    timeoutMs: 10_000,
    smtp: {
      host: "127.0.0.1",
      port,
      from: "slo-agent@merchant.test",
      to: ["oncall@merchant.test", "vendor-manager@merchant.test"],
      starttls: true,
      caFile,
      username: withAuth ? "agent" : null,
      password: withAuth ? new Secret(PASSWORD) : null,
    },
  };
  const receiver = createReceiver(spec, dispatcher);
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
  outbox.enqueue(notifications);
  await outbox.idle();
  const depth = store.notifications.depth().get("mail") ?? 0;
  await outbox.close();
  store.close();
  return { logs, depth };
}

describe("the email receiver (SMTP with STARTTLS, nodemailer)", () => {
  it("sends each notification as one mail over a STARTTLS-upgraded connection, to every recipient", async () => {
    const server = await smtpServer([caFile, keyFile]);
    try {
      const { depth } = await deliver(server.port, [notification("firing"), notification("resolved")]);
      expect(depth).toBe(0);
      // The server's lines come through a pipe: give the last one time to arrive.
      for (let i = 0; i < 100 && server.mails.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      expect(server.mails).toHaveLength(2);
      expect(server.mails.every((m) => m.tls)).toBe(true);
      expect(server.mails[0]!.to).toEqual(["oncall@merchant.test", "vendor-manager@merchant.test"]);
      expect(server.mails[0]!.data).toMatch(
        /^Subject: \[FIRING\] SLOErrorBudgetBurn payment_request \(page\)$/m,
      );
      expect(server.mails[1]!.data).toMatch(/^Subject: \[RESOLVED\] /m);
      expect(server.mails[0]!.data).toContain("Codes that count: X");
    } finally {
      server.close();
    }
  }, 60_000);

  it("refuses to send in clear text to a relay that offers no STARTTLS: the mail stays queued", async () => {
    const server = await smtpServer(["plain"]);
    try {
      const { logs, depth } = await deliver(server.port, [notification("firing")], true);
      expect(server.mails).toEqual([]);
      expect(depth).toBe(1);
      expect(logs.join("\n")).toMatch(/delivery to mail failed \(\w+/);
      expect(logs.join("\n")).not.toContain(PASSWORD);
    } finally {
      server.close();
    }
  }, 60_000);
});
