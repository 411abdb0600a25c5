import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProcess } from "../support/processes.js";

/**
 * ATTACK-24b, weakness 1: a fresh install whose first configuration holds a window announced 30
 * days back and already running. The reports mark it unverified (before_log); /status must too,
 * and a window the log bears out must not be marked.
 */

const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();

function window(id: string, start: number): string {
  return `    - {id: ${id}, start: "${iso(start)}", end: "${iso(start + HOUR)}", announced_at: "${iso(T0 - 30 * DAY)}", categories: [all]}`;
}

describe("/status marks a window that stands on an announcement older than the log", {
  timeout: 120_000,
}, () => {
  let target: Server;
  let dir: string;
  let status = "";

  beforeAll(async () => {
    target = createServer((_req, res) => res.writeHead(503).end("down"));
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), "slo-status-unverified-"));
    await writeFile(
      join(dir, "slo.yaml"),
      `version: 1
agent: {id: status-1, region: test, listen: 127.0.0.1:0, data_dir: ./evidence}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
maintenance:
  windows:
${window("mwf", T0 - 60_000)}
${window("mwlater", T0 + 10 * DAY)}
targets:
  down: {base_url: "${url}", environment: simulator, auth: {type: none}}
probes:
  - {id: pay, category: payment_request, target: down, every: 1s, path: /pay, timeout_ms: 500}
sla:
  provider: Example PSP
  credits: [{below_pct: 99.0, credit_pct: 10}]
`,
    );
    const agent = startProcess(process.execPath, [MAIN, "run", "--config", join(dir, "slo.yaml")], dir);
    try {
      const listening = await agent.listening(30_000);
      status = await (await fetch(`${listening}/status`)).text();
    } finally {
      await agent.stop();
    }
  }, 60_000);

  afterAll(async () => {
    await new Promise((r) => target?.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the running back-dated window is marked unverified, the one loaded 10 days ahead is not", () => {
    const item = (id: string) => status.split("<li>").find((li) => li.includes(`<b>${id}</b>`)) ?? "";
    expect(item("mwf")).toContain("running now");
    expect(item("mwf")).toMatch(/>unverified</);
    expect(item("mwlater")).toContain("<b>mwlater</b>");
    expect(item("mwlater")).not.toMatch(/unverified/);
  });
});
