import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../reports/cli-run.js";
import { runCliSync } from "../support/cli.js";
import { eventually } from "../support/eventually.js";
import { announcedUrl } from "../support/processes.js";

/**
 * A hostile target echoes every credential it is sent back into the fields the agent keeps:
 * error_code, correlation_id (body, both Klarna error shapes) and the Klarna-Correlation-Id
 * header. The real daemon probes it; nothing that leaves the agent may hold any form of them.
 */
const USERNAME = "merchant-canary-7d1e";
const PASSWORD = "pw-canary-3f9a-echoed";
const API_KEY = "key-canary-b41c-echoed";
const BASIC = Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64");
const CANARIES = [USERNAME, PASSWORD, API_KEY, BASIC];

function echoingServer(): Server {
  let n = 0;
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const authorization = req.headers.authorization ?? "";
    const apiKey = String(req.headers["x-api-key"] ?? "");
    const variants = [
      { headers: {}, body: { error_code: PASSWORD, correlation_id: authorization } },
      { headers: { "Klarna-Correlation-Id": `corr-${PASSWORD}` }, body: { error_code: BASIC } },
      { headers: {}, body: { error_code: apiKey, correlation_id: `id-${USERNAME}` } },
      { headers: {}, body: { error_id: authorization, errors: [{ code: `E-${apiKey}` }] } },
    ];
    const v = variants[n++ % variants.length]!;
    res.writeHead(401, { "content-type": "application/json", ...v.headers });
    res.end(JSON.stringify(v.body));
  });
}

const ENV = { ...process.env, ECHO_USER: USERNAME, ECHO_PASSWORD: PASSWORD, ECHO_API_KEY: API_KEY };

function slo(args: readonly string[], cwd: string) {
  return runCliSync(args, { cwd, env: ENV, timeoutMs: 60_000 });
}

function configFor(url: string): string {
  return `version: 1
agent: {region: test, listen: 127.0.0.1:0, data_dir: ./evidence}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 150}
targets:
  echo:
    base_url: "${url}"
    environment: playground
    headers: {X-Api-Key: "\${ECHO_API_KEY}"}
    auth: {type: basic, username: "\${ECHO_USER}", password: "\${ECHO_PASSWORD}"}
probes:
  - {id: payment-request-read, category: payment_request, target: echo, every: 1s, path: /payments/v1/sessions/0}
`;
}

function outputOf(child: ChildProcess): () => string {
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  return () => out;
}

describe("a target that echoes the credentials back", () => {
  let server: Server;
  let dir: string;
  beforeAll(async () => {
    server = echoingServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    dir = await mkdtemp(join(tmpdir(), "slo-echo-"));
    const { port } = server.address() as AddressInfo;
    await writeFile(join(dir, "slo.yaml"), configFor(`http://127.0.0.1:${port}`));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("leaves no trace of them in the evidence store's bytes, /metrics, the logs or any report format", async () => {
    const child = spawn(process.execPath, [CLI, "run", "--config", "slo.yaml", "--debug"], {
      cwd: dir,
      env: ENV,
    });
    const output = outputOf(child);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    let metrics = "";
    try {
      const url = await eventually(async () => announcedUrl(output()), 30_000, "the agent to listen");
      // Every echo variant at least once: the fourth result has been counted.
      metrics = await eventually(
        async () => {
          const text = await (await fetch(`${url}/metrics`)).text();
          return /slo_probe_requests_total\{[^}]*\} ([4-9]|\d\d)/.test(text) ? text : null;
        },
        30_000,
        "four probe results",
      );
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
    const month = new Date().toISOString().slice(0, 7);
    const reports = ["json", "md", "html", "csv"].map((format) => {
      const outcome = slo(["report", "--month", month, "--format", format], dir);
      expect(outcome.code, outcome.stderr).toBe(0);
      return outcome.stdout + outcome.stderr;
    });
    const verify = slo(["verify"], dir);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const store = join(dir, "evidence");
    const storeBytes = readdirSync(store).map((f) => readFileSync(join(store, f)).toString("latin1"));

    for (const [where, text] of [
      ["logs", output()],
      ["/metrics", metrics],
      ...reports.map((r, i) => [`report ${i}`, r]),
      ["verify", verify.stdout + verify.stderr],
      ...storeBytes.map((b, i) => [`store file ${i}`, b]),
    ] as const) {
      for (const canary of CANARIES) expect(text.includes(canary), `${canary} in ${where}`).toBe(false);
    }
    // The echoes were recorded, scrubbed: the test saw the attack, not an empty store.
    expect(storeBytes.join("")).toContain("[redacted]");
    expect(storeBytes.join("")).toContain("corr-[redacted]");
  }, 120_000);
});
