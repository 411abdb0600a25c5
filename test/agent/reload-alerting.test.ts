import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Running, startProcess } from "../export/live-processes.js";
import { httpServer, json, type Loopback } from "../probes/loopback.js";
import { eventually } from "../support/eventually.js";

const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");
const TOKEN = "reload-token-3f9a1c7e2d";
const SECRET = "webhook-secret-0123456789abcdef";

interface Hook {
  readonly receiver: string;
  readonly status: string;
  readonly reminder: boolean;
  readonly alert: { readonly labels: Record<string, string> };
}

/** A webhook receiver on loopback that keeps every notification it accepted. */
async function hookServer(): Promise<{ url: string; hooks: Hook[]; server: Server }> {
  const hooks: Hook[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      hooks.push(JSON.parse(body) as Hook);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hooks, server };
}

function config(api: string, o: { expect: number; hook: { id: string; url: string } }): string {
  return `version: 1
agent: {region: test, listen: 127.0.0.1:0, data_dir: ./evidence, admin_token: ${TOKEN}}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
targets:
  api: {base_url: "${api}", environment: simulator, auth: {type: none}}
probes:
  - {id: guarded, category: payment_request, target: api, every: 1s, path: /guarded, expect: {status: [${o.expect}]}}
alerting:
  for: 1s
  group_wait: 0s
  group_interval: 1s
  receivers:
    - {id: ${o.hook.id}, type: webhook, url: "${o.hook.url}", secret: "${SECRET}"}
`;
}

describe("a reload hands the new configuration to measurement validity and alerting (real daemon)", () => {
  let api: Loopback;
  let a: Awaited<ReturnType<typeof hookServer>>;
  let b: Awaited<ReturnType<typeof hookServer>>;
  let dir: string;
  let agent: Running;

  beforeAll(async () => {
    api = await httpServer({
      "/guarded": (_req, res) => json(res, 401, { error_code: "UNAUTHORIZED" }),
    });
    a = await hookServer();
    b = await hookServer();
    dir = await mkdtemp(join(tmpdir(), "slo-reload-alerting-"));
  });
  afterAll(async () => {
    await agent?.stop();
    await api?.close();
    for (const hook of [a, b]) await new Promise((resolve) => hook?.server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("a new expect: makes the probe valid again; the receiver added by the reload is told what fires, then that it resolved", {
    timeout: 120_000,
  }, async () => {
    const file = join(dir, "slo.yaml");
    await writeFile(file, config(api.origin, { expect: 200, hook: { id: "a", url: a.url } }));
    agent = startProcess(process.execPath, [MAIN, "run", "--config", file, "--log-format", "json"], dir);
    const url = await agent.listening(30_000);
    const valid = async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const line = text
        .split("\n")
        .find((l) => l.startsWith("slo_probe_valid{") && l.includes('probe="guarded"'));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
    };

    // Start-up configuration: a 401 it does not expect is auth_failed; its alert fires at a.
    await eventually(
      async () => ((await valid()) === 0 ? 0 : undefined),
      45_000,
      "guarded measured as invalid",
      { context: agent.output },
    );
    const fired = await eventually(
      () => a.hooks.find((h) => h.status === "firing" && !h.reminder),
      45_000,
      "the auth alert fired at receiver a",
      { context: agent.output },
    );

    // The provider's 401 is now what the probe expects; receiver a is replaced by b.
    await writeFile(file, config(api.origin, { expect: 401, hook: { id: "b", url: b.url } }));
    const reloaded = await fetch(`${url}/-/reload`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(reloaded.status, await reloaded.clone().text()).toBe(200);
    const atReload = a.hooks.length;

    await eventually(
      async () => ((await valid()) === 1 ? 1 : undefined),
      45_000,
      "guarded measured as valid",
      { context: agent.output },
    );
    // The alert kept its state through the reload: b, added by it, is told what is firing, then
    // the alert resolves (it was notified), at b only.
    const resolved = await eventually(
      () => b.hooks.find((h) => h.status === "resolved"),
      45_000,
      "the alert resolved at receiver b",
      { context: agent.output },
    );
    expect(resolved.alert.labels).toEqual(fired.alert.labels);
    const firingAtB = b.hooks.filter((h) => h.status === "firing" && !h.reminder);
    expect(firingAtB.map((h) => h.alert.labels)).toEqual([fired.alert.labels]);
    expect(b.hooks.indexOf(firingAtB[0]!)).toBeLessThan(b.hooks.indexOf(resolved));
    expect(a.hooks.length).toBe(atReload);
  });
});
