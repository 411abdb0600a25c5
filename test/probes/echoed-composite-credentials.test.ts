import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../reports/cli-run.js";
import { eventually } from "../support/eventually.js";

/**
 * A hostile target echoes back only the token inside a composite credential header --
 * `Authorization: Bearer X`, `Cookie: sid=X`, `X-Api-Key: key=X` -- bare, base64-encoded and
 * URL-encoded, into the fields the agent keeps. The real daemon probes it; no form of any token
 * may reach the store's bytes, the logs, /metrics, /status, a report or an evidence bundle.
 */
const PARTNER = "partner-tok/3e9f+a1c";
const SID = "sid-val-7b2d4e91";
const KEY = "apikey-c0ffee42";
/** Its URL-encoded and JSON-escaped forms differ from it: each must be scrubbed too. */
const IN_BODY = 'body-secret/5e8a+1d"q';
/** A composite body value: a server may echo just its first run, "BODYsecret". */
const COMPOSITE = 'BODYsecret"GGGG/4444+hh=';
/** In the probe's query string and in the target's base URL: sent, so echoed too. */
const QUERY_REF = "qref-5d1c9e77a0";
const TENANT = "tenant-8f3a2b1c9d";
const b64 = (s: string) => Buffer.from(s).toString("base64");
const CANARIES = [
  COMPOSITE,
  "BODYsecret",
  b64("BODYsecret"),
  QUERY_REF,
  TENANT,
  PARTNER.toUpperCase(),
  SID.toUpperCase(),
  encodeURIComponent(IN_BODY).toLowerCase(),
  PARTNER,
  SID,
  KEY,
  IN_BODY,
  b64(PARTNER),
  b64(SID),
  b64(KEY),
  b64(IN_BODY),
  encodeURIComponent(PARTNER),
  encodeURIComponent(IN_BODY),
  JSON.stringify(IN_BODY).slice(1, -1),
];

/** The token after the last space or = of a header value: what a careless server reflects. */
const tokenOf = (value: unknown) =>
  String(value ?? "")
    .split(/[ =]/)
    .pop() ?? "";

function echoingServer(): Server {
  let n = 0;
  return createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const partner = tokenOf(req.headers.authorization);
    const sid = tokenOf(req.headers.cookie);
    const key = tokenOf(req.headers["x-api-key"]);
    let sent = "";
    req.on("data", (c) => {
      sent += c;
    });
    await new Promise((resolve) => req.on("end", resolve));
    const json = sent === "" ? {} : JSON.parse(sent);
    const inBody = String(json.merchant_reference ?? "");
    const firstRun = String(json.note ?? "").split('"')[0]!;
    const url = new URL(req.url ?? "/", "http://echo");
    const tenant = url.pathname.split("/")[1] ?? "";
    const ref = url.searchParams.get("ref") ?? "";
    const variants = [
      { headers: {}, body: { error_code: partner, correlation_id: sid } },
      { headers: { "Klarna-Correlation-Id": `corr-${key}` }, body: { error_code: b64(partner) } },
      { headers: {}, body: { error_code: encodeURIComponent(partner), correlation_id: b64(sid) } },
      { headers: {}, body: { error_id: b64(key), errors: [{ code: `E-${sid}` }] } },
      { headers: { "Klarna-Correlation-Id": b64(inBody) }, body: { error_code: `ref-${inBody}` } },
      { headers: {}, body: { error_code: `url-${encodeURIComponent(inBody)}` } },
      { headers: {}, body: { error_code: `json-${JSON.stringify(inBody).slice(1, -1)}` } },
      { headers: {}, body: { error_code: `run-${firstRun}`, correlation_id: b64(firstRun) } },
      { headers: { "Klarna-Correlation-Id": `ref-${ref}` }, body: { error_code: `tenant-of-${tenant}` } },
      {
        headers: {},
        body: { error_code: `upper-${partner.toUpperCase()}`, correlation_id: sid.toUpperCase() },
      },
      { headers: {}, body: { error_code: `lower-${encodeURIComponent(inBody).toLowerCase()}` } },
    ];
    const v = variants[n++ % variants.length]!;
    res.writeHead(401, { "content-type": "application/json", ...v.headers });
    res.end(JSON.stringify(v.body));
  });
}

const ENV = { ...process.env, PARTNER_TOKEN: PARTNER, SID, KEY, IN_BODY, COMPOSITE, QUERY_REF, TENANT };

function slo(args: readonly string[], cwd: string) {
  const run = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: ENV,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
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
    base_url: "${url}/\${TENANT}"
    environment: playground
    headers: {Authorization: "Bearer \${PARTNER_TOKEN}", Cookie: "sid=\${SID}", X-Api-Key: "key=\${KEY}"}
probes:
  - {id: payment-request-read, category: payment_request, target: echo, every: 1s, path: "/payments/v1/sessions?ref=\${QUERY_REF}", method: POST, body: {merchant_reference: "\${IN_BODY}", note: "\${COMPOSITE}"}}
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

describe("a target that echoes the token inside a composite credential", () => {
  let server: Server;
  let dir: string;
  beforeAll(async () => {
    server = echoingServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    dir = await mkdtemp(join(tmpdir(), "slo-echo-composite-"));
    const { port } = server.address() as AddressInfo;
    await writeFile(join(dir, "slo.yaml"), configFor(`http://127.0.0.1:${port}`));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("leaves no form of any token in the store's bytes, logs, /metrics, /status, reports or the bundle", async () => {
    const child = spawn(process.execPath, [CLI, "run", "--config", "slo.yaml", "--debug"], {
      cwd: dir,
      env: ENV,
    });
    const output = outputOf(child);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    let metrics = "";
    let status = "";
    try {
      const url = await eventually(
        async () => /listening on (\S+)/.exec(output())?.[1] ?? null,
        30_000,
        "the agent to listen",
      );
      // Every echo variant at least once: the eleventh result has been counted.
      metrics = await eventually(
        async () => {
          const text = await (await fetch(`${url}/metrics`)).text();
          return /slo_probe_requests_total\{[^}]*\} (1[1-9]|[2-9]\d|\d{3})/.test(text) ? text : null;
        },
        30_000,
        "eleven probe results",
      );
      status = await (await fetch(`${url}/status`)).text();
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
    const bundle = slo(["evidence", "export", "--month", month, "--out", join(dir, "bundle")], dir);
    expect(bundle.code, bundle.stderr).toBe(0);
    const bundleBytes = readdirSync(join(dir, "bundle")).map((f) =>
      readFileSync(join(dir, "bundle", f)).toString("latin1"),
    );
    const store = join(dir, "evidence");
    const storeBytes = readdirSync(store).map((f) => readFileSync(join(store, f)).toString("latin1"));

    for (const [where, text] of [
      ["logs", output()],
      ["/metrics", metrics],
      ["/status", status],
      ...bundleBytes.map((b, i) => [`bundle file ${i}`, b]),
      ...reports.map((r, i) => [`report ${i}`, r]),
      ["verify", verify.stdout + verify.stderr],
      ...storeBytes.map((b, i) => [`store file ${i}`, b]),
    ] as const) {
      for (const canary of CANARIES) expect(text.includes(canary), `${canary} in ${where}`).toBe(false);
    }
    // The echoes were recorded, scrubbed: the test saw the attack, not an empty store.
    expect(storeBytes.join("")).toContain("[redacted]");
    expect(storeBytes.join("")).toContain("corr-[redacted]");
    expect(status.length).toBeGreaterThan(100);
    expect(storeBytes.join("")).toContain("ref-[redacted]");
    expect(storeBytes.join("")).toContain("url-[redacted]");
    expect(storeBytes.join("")).toContain("json-[redacted]");
    expect(storeBytes.join("")).toContain("run-[redacted]");
    expect(storeBytes.join("")).toContain("tenant-of-[redacted]");
    expect(storeBytes.join("")).toContain("upper-[redacted]");
    expect(storeBytes.join("")).toContain("lower-[redacted]");
    // The report names the target by its base URL, without the value the environment put there.
    expect(reports[0]).toMatch(/"base_url": "http:\/\/127\.0\.0\.1:\d+\/\[redacted\]"/);
  }, 120_000);
});
