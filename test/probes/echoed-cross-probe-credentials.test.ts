import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../reports/cli-run.js";
import { eventually } from "../support/eventually.js";

/**
 * A hostile target answers a probe that sends no secret with the secrets of OTHER probes -- an
 * API key header of one probe file, a token in another probe file's query string -- in the forms
 * a filter of the bare value misses: base64 at each alignment (`b64("x" + S)`), every byte
 * percent-encoded, hex, HTML entities, \u escapes, double URL-encoding, a zero-width character
 * inside. The real daemon probes it; no form may reach the store's bytes, the logs, /status, a
 * report or an evidence bundle, and the token in the query must not be in the recorded
 * configuration either.
 */
const KEY = "Kx9ApiKeySecretValue77";
const QUERY = "Qy8QuerySecretValue66";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const percentAll = (s: string) => [...Buffer.from(s)].map((b) => `%${b.toString(16).toUpperCase()}`).join("");
const hex = (s: string) => Buffer.from(s).toString("hex");
const entities = (s: string) => [...s].map((c) => `&#${c.codePointAt(0)};`).join("");
const uEscapes = (s: string) =>
  [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
const twice = (s: string) => encodeURIComponent(encodeURIComponent(`a/${s}`));

/** [error_code, correlation_id] of each answer, in turn. */
const ECHOES: readonly (readonly [string, string])[] = [
  [KEY, QUERY],
  [b64(`x${KEY}`), b64(`xy${QUERY}`)],
  [b64(`xy${KEY}`), b64(`x${QUERY}`)],
  [percentAll(KEY), percentAll(QUERY).toLowerCase()],
  [hex(KEY), hex(QUERY).toUpperCase()],
  [entities(KEY), `${KEY.slice(0, 4)}\u200b${KEY.slice(4)}`],
  [uEscapes(KEY), `${QUERY.slice(0, 4)}\u2060${QUERY.slice(4)}`],
  [twice(KEY), b64(`leakuser:${QUERY}`)],
];

/**
 * What must not be found: each echo, and of each the part that gives the secret away -- the
 * middle of a base64 echo (its ends mix in the bytes around the secret), the secret after the
 * zero-width character.
 */
const CANARIES = [
  KEY,
  QUERY,
  KEY.slice(4),
  QUERY.slice(4),
  ...ECHOES.flat().filter((e) => !/[\u200b\u2060]/.test(e)),
  ...ECHOES.flat()
    .filter((e) => /^[A-Za-z0-9+/]+=*$/.test(e) && e.length > 16)
    .map((e) => e.slice(4, -4)),
];

function echoingServer(): Server {
  let n = 0;
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith("/plain")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
      return;
    }
    const [errorCode, correlationId] = ECHOES[n++ % ECHOES.length]!;
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error_code: errorCode, correlation_id: correlationId }));
  });
}

const ENV = { ...process.env, K1: KEY, K2: QUERY };

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
  payment_confirmation: {title: Payment Confirmation, service_class: transaction_critical, latency_p99_ms: 500}
  read_only_identity: {title: Read-Only Identity, service_class: transaction_critical, latency_p99_ms: 500}
targets:
  echo: {base_url: "${url}", environment: playground}
probes_dir: probes
probes:
  - {id: p2-plain, category: payment_confirmation, target: echo, every: 1s, method: GET, path: /plain}
`;
}

const KEYED = `- {id: p1-keyed, category: payment_request, target: echo, every: 1s, method: GET, path: /a, headers: {X-Api-Key: "\${K1}"}}
`;
const QUERIED = `- {id: p3-query, category: read_only_identity, target: echo, every: 1s, method: GET, path: "/c?token=\${K2}"}
`;

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

describe("a target that echoes other probes' secrets, encoded", () => {
  let server: Server;
  let dir: string;
  beforeAll(async () => {
    server = echoingServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    dir = await mkdtemp(join(tmpdir(), "slo-echo-cross-"));
    const { port } = server.address() as AddressInfo;
    await writeFile(join(dir, "slo.yaml"), configFor(`http://127.0.0.1:${port}`));
    await mkdir(join(dir, "probes"));
    await writeFile(join(dir, "probes", "keyed.yaml"), KEYED);
    await writeFile(join(dir, "probes", "queried.yaml"), QUERIED);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("leaves no form of either secret in the store, logs, /status, reports, the bundle or the recorded configuration", async () => {
    const child = spawn(process.execPath, [CLI, "run", "--config", "slo.yaml", "--debug"], {
      cwd: dir,
      env: ENV,
    });
    const output = outputOf(child);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    let status = "";
    try {
      const url = await eventually(
        async () => /listening on (\S+)/.exec(output())?.[1] ?? null,
        30_000,
        "the agent to listen",
      );
      // Every echo at least once: the plain probe's ninth result has been counted.
      await eventually(
        async () => {
          const text = await (await fetch(`${url}/metrics`)).text();
          return /slo_probe_requests_total\{[^}]*probe="p2-plain"[^}]*\} ([9]|\d{2,})\b/.test(text)
            ? text
            : null;
        },
        40_000,
        "nine results of the plain probe",
      );
      status = await (await fetch(`${url}/status`)).text();
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
    const month = new Date().toISOString().slice(0, 7);
    const reports = ["json", "md", "html"].map((format) => {
      const outcome = slo(["report", "--month", month, "--format", format], dir);
      expect(outcome.code, outcome.stderr).toBe(0);
      return outcome.stdout + outcome.stderr;
    });
    const bundle = slo(["evidence", "export", "--month", month, "--out", join(dir, "bundle")], dir);
    expect(bundle.code, bundle.stderr).toBe(0);
    const bundleFiles = readdirSync(join(dir, "bundle"));
    const bundleBytes = bundleFiles.map((f) => readFileSync(join(dir, "bundle", f)).toString("utf8"));
    const store = join(dir, "evidence");
    const storeBytes = readdirSync(store).map((f) => readFileSync(join(store, f)).toString("utf8"));

    for (const [where, text] of [
      ["logs", output()],
      ["/status", status],
      ...bundleBytes.map((b, i) => [`bundle ${bundleFiles[i]}`, b]),
      ...reports.map((r, i) => [`report ${i}`, r]),
      ...storeBytes.map((b, i) => [`store file ${i}`, b]),
    ] as const) {
      for (const canary of CANARIES) {
        expect(text.toLowerCase().includes(canary.toLowerCase()), `${canary} in ${where}`).toBe(false);
      }
    }
    // The echoes were recorded, scrubbed: the test saw the attack, not an empty store.
    expect(storeBytes.join("").split("[redacted]").length).toBeGreaterThan(ECHOES.length);
    // The probe's path is recorded, its token redacted.
    const configuration = bundleBytes[bundleFiles.indexOf("configuration.json")]!;
    expect(configuration).toContain("/c?token=[redacted]");
    expect(status.length).toBeGreaterThan(100);
  }, 120_000);
});
