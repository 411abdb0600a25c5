import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Running, startProcess } from "../export/live-processes.js";

/**
 * `agent.admin_listen` moves /-/reload and /api/v1/* to their own listener (the public one answers
 * them 404), and `agent.allowed_hosts` answers any other Host with 421 on every listener, so that
 * a DNS-rebinding page cannot read /status, /metrics or /alerts. The real `run` over real HTTP.
 */
const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");
const ADMIN_TOKEN = "admin-listen-token-6c1f0e";
const API_TOKEN = "api-listen-token-2b9d7a";
const MONTH = new Date().toISOString().slice(0, 7);

const CONFIG = [
  "version: 1",
  "agent:",
  "  {region: eu, id: agent-eu, listen: 127.0.0.1:0, admin_listen: 127.0.0.1:0,",
  "   allowed_hosts: [127.0.0.1, localhost], data_dir: ./data,",
  `   admin_token: ${ADMIN_TOKEN}, api_token: ${API_TOKEN}}`,
  "service_classes:",
  "  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}",
  "categories:",
  "  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 150}",
  "targets:",
  "  klarna: {base_url: http://127.0.0.1:9}",
  "probes:",
  '  - {id: payment-request-read, category: payment_request, target: klarna, schedule: "0 0 0 1 1 *", method: GET, path: /x, timeout_ms: 2000}',
  "",
].join("\n");

/** One request with a Host header of our choosing (fetch may not set Host). */
function call(base: string, path: string, options: { method?: string; host?: string; token?: string } = {}) {
  const url = new URL(path, base);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        headers: {
          host: options.host ?? url.host,
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (res) => {
        let body = "";
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

let dir: string;
let agent: Running;
let publicUrl: string;
let adminUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "slo-admin-listen-"));
  await writeFile(join(dir, "slo.yaml"), CONFIG);
  agent = startProcess(process.execPath, [MAIN, "run", "--config", join(dir, "slo.yaml")], dir, {});
  publicUrl = (await agent.waitFor(/listening on (\S+)/, 30_000))[1]!;
  adminUrl = (await agent.waitFor(/admin on (\S+)/, 30_000))[1]!;
}, 60_000);
afterAll(async () => {
  await agent?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("agent.admin_listen and agent.allowed_hosts", () => {
  it("serves the read API and the reload only on admin_listen; the public listener answers them 404", async () => {
    const summary = `/api/v1/months/${MONTH}/summary`;
    expect((await call(publicUrl, summary, { token: API_TOKEN })).status).toBe(404);
    expect((await call(publicUrl, "/-/reload", { method: "POST", token: ADMIN_TOKEN })).status).toBe(404);
    expect((await call(publicUrl, "/metrics")).status).toBe(200);
    expect((await call(adminUrl, summary, { token: API_TOKEN })).status).toBe(200);
    expect((await call(adminUrl, summary)).status).toBe(401);
    expect((await call(adminUrl, "/-/reload", { method: "POST", token: ADMIN_TOKEN })).status).toBe(200);
  }, 60_000);

  it("answers a Host that is not allowed with 421 on every listener and every path", async () => {
    for (const base of [publicUrl, adminUrl]) {
      for (const path of ["/status", "/metrics", "/alerts", "/healthz", `/api/v1/months/${MONTH}/summary`]) {
        const answer = await call(base, path, { host: "rebind.attacker.example", token: API_TOKEN });
        expect(answer.status, `${base}${path}`).toBe(421);
        expect(answer.body).not.toContain("payment_request");
      }
    }
    const port = new URL(publicUrl).port;
    expect((await call(publicUrl, "/status", { host: `localhost:${port}` })).status).toBe(200);
    expect((await call(publicUrl, "/status", { host: "LOCALHOST" })).status).toBe(200);
  }, 60_000);
});
