/**
 * The agent's own alerts under a real Alertmanager (Debian's prometheus-alertmanager) and a
 * signed webhook checked by this test: a scripted outage in the simulator reaches Alertmanager
 * with its category even though Alertmanager was down when the alert fired, and ending the
 * outage resolves it in both places.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, type Running, startProcess } from "../export/live-processes.js";

const REPO = join(import.meta.dirname, "../..");
const CLI = join(REPO, "dist/cli/main.js");
const SECOND = 1000;
const SECRET = "e2e-webhook-secret-0123456789";
const CATEGORY = "payment_request";

interface Hook {
  readonly status: string;
  readonly alert: { labels: Record<string, string>; endsAt: string | null };
  /** Every alert of the notification's group (category and severity), each with its own status. */
  readonly alerts: { status: string; labels: Record<string, string> }[];
}

let dir: string;
let amPort: number;
let alertmanager: Running | null = null;
let demo: Running | null = null;
let hookServer: Server;
let agentUrl: string;
let simulatorUrl: string;
const hooks: Hook[] = [];
const badSignatures: string[] = [];

/** The HMAC check a webhook receiver would make, written here independently of the agent's code. */
function verified(timestamp: string | undefined, signature: string | undefined, body: string): boolean {
  if (!timestamp || !signature?.startsWith("sha256=")) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac("sha256", SECRET).update(`${timestamp}.${body}`).digest();
  const given = Buffer.from(signature.slice("sha256=".length), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function startAlertmanager(): Running {
  const am = startProcess(
    "/usr/bin/prometheus-alertmanager",
    [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "am")}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      "--cluster.listen-address=",
    ],
    dir,
  );
  return am;
}

async function alertmanagerReady(): Promise<void> {
  await eventually(
    async () => ((await fetch(`http://127.0.0.1:${amPort}/-/ready`).catch(() => null))?.ok ? true : null),
    60 * SECOND,
    "alertmanager /-/ready",
  );
}

async function amAlerts(): Promise<{ labels: Record<string, string>; status: { state: string } }[]> {
  const response = await fetch(`http://127.0.0.1:${amPort}/api/v2/alerts`);
  return (await response.json()) as { labels: Record<string, string>; status: { state: string } }[];
}

/** The fast-burn alert's status in each webhook notification that carries it, in order. */
const fastBurnStatuses = () =>
  hooks.flatMap((h) => h.alerts.filter((a) => isFastBurn(a.labels)).map((a) => a.status));
const isFastBurn = (labels: Record<string, string>) =>
  labels.alertname === "SLOErrorBudgetBurn" && labels.category === CATEGORY && labels.long_window === "1h";

async function agentAlerts(): Promise<{ labels: Record<string, string>; state: string }[]> {
  const response = await fetch(`${agentUrl}/alerts`);
  return ((await response.json()) as { alerts: { labels: Record<string, string>; state: string }[] }).alerts;
}

async function outage(errorRate: number): Promise<void> {
  const patch = await fetch(`${simulatorUrl}/__sim/scenario/categories/${CATEGORY}`, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ error_rate: errorRate }),
  });
  expect(patch.status).toBeLessThan(300);
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`no ${CLI}: run npm run build`);
  dir = mkdtempSync(join(tmpdir(), "slo-e2e-alertmanager-"));
  mkdirSync(join(dir, "am"));
  amPort = await freePort();
  writeFileSync(
    join(dir, "alertmanager.yml"),
    "route: {receiver: blackhole}\nreceivers: [{name: blackhole}]\n",
  );

  hookServer = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const timestamp = request.headers["x-slo-agent-timestamp"] as string | undefined;
      const signature = request.headers["x-slo-agent-signature"] as string | undefined;
      if (!verified(timestamp, signature, body)) {
        badSignatures.push(body);
        response.writeHead(401).end();
        return;
      }
      hooks.push(JSON.parse(body) as Hook);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, "127.0.0.1", resolve));
  const hookPort = (hookServer.address() as AddressInfo).port;

  // The shipped profile, its probes where they are, with alerting for this test: fire after 2 s.
  const profile = readFileSync(join(REPO, "slo.yaml"), "utf8").replace(
    /^probes_dir: .*$/m,
    `probes_dir: ${JSON.stringify(join(REPO, "probes"))}`,
  );
  writeFileSync(
    join(dir, "slo.yaml"),
    `${profile}
alerting:
  for: 2s
  group_wait: 0s
  group_interval: 1s
  receivers:
    - {id: am, type: alertmanager, url: "http://127.0.0.1:${amPort}"}
    - {id: hook, type: webhook, url: "http://127.0.0.1:${hookPort}/slo", secret: "\${HOOK_SECRET}"}
`,
  );

  alertmanager = startAlertmanager();
  await alertmanagerReady();
  demo = startProcess(
    process.execPath,
    [
      CLI,
      "demo",
      "--config",
      join(dir, "slo.yaml"),
      "--listen",
      "127.0.0.1:0",
      "--data-dir",
      join(dir, "data"),
      "--every",
      "1s",
    ],
    REPO,
    { HOOK_SECRET: SECRET },
  );
  agentUrl = await demo.listening(60 * SECOND);
  simulatorUrl = await demo.simulator(10 * SECOND);
}, 120 * SECOND);

afterAll(async () => {
  await demo?.stop();
  await alertmanager?.stop();
  await new Promise((resolve) => hookServer?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
}, 60 * SECOND);

describe("the agent's alerts under a real Alertmanager", { timeout: 240 * SECOND }, () => {
  it("an outage fires while Alertmanager is down, reaches it once it is back, and resolves when the outage ends", async () => {
    // Some healthy history first, so that ending the outage can bring the 5m window back under 14.4x.
    await eventually(
      async () =>
        (await fetch(`${agentUrl}/metrics`).then((r) => r.text())).includes(`category="${CATEGORY}"`)
          ? true
          : null,
      60 * SECOND,
      "first results",
    );
    await new Promise((resolve) => setTimeout(resolve, 15 * SECOND));
    await alertmanager!.stop();

    await outage(0.5);
    await eventually(
      async () =>
        (await agentAlerts()).some((a) => isFastBurn(a.labels) && a.state === "firing") ? true : null,
      90 * SECOND,
      "the agent's fast-burn alert firing",
    );
    await outage(0);
    await eventually(
      async () => (fastBurnStatuses().includes("firing") ? true : null),
      30 * SECOND,
      "the signed webhook's firing notification",
    );

    alertmanager = startAlertmanager();
    await alertmanagerReady();
    const received = await eventually(
      async () => (await amAlerts()).find((a) => isFastBurn(a.labels)) ?? null,
      60 * SECOND,
      "Alertmanager receiving the alert sent while it was down",
    );
    expect(received.labels).toMatchObject({
      category: CATEGORY,
      service_class: "transaction_critical",
      region: "eu",
      severity: "page",
    });

    await eventually(
      async () => (fastBurnStatuses().includes("resolved") ? true : null),
      120 * SECOND,
      "the webhook's resolved notification",
    );
    await eventually(
      async () => ((await amAlerts()).some((a) => isFastBurn(a.labels)) ? null : true),
      30 * SECOND,
      "the alert resolved in Alertmanager",
    );
    // The page group's notifications carry the fast-burn alert firing (once, or again beside a
    // change in its group), then resolved exactly once, last.
    const fastBurn = fastBurnStatuses();
    expect(fastBurn[0]).toBe("firing");
    expect(fastBurn.filter((s) => s === "resolved")).toEqual(["resolved"]);
    expect(fastBurn.at(-1)).toBe("resolved");
    expect(badSignatures).toEqual([]);

    // The queue drains: read until it is empty. Read once, it held a notification now and then on
    // a loaded box (another group's, sent in the same moment), and this suite failed so.
    const metrics = await eventually(
      async () => {
        const text = await fetch(`${agentUrl}/metrics`).then((r) => r.text());
        return /slo_alert_queue_depth\{[^}]*receiver="am"[^}]*\} 0\n/.test(text) ? text : null;
      },
      30 * SECOND,
      "the alert queue to Alertmanager empty",
    );
    expect(metrics).toMatch(
      /slo_alert_deliveries_total\{[^}]*receiver="am"[^}]*result="failure"[^}]*\} [1-9]/,
    );
    expect(demo!.output()).not.toContain(SECRET);
  });
});
