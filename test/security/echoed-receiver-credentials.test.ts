import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../reports/cli-run.js";
import { eventually } from "../support/eventually.js";

/**
 * Every endpoint the agent sends a credential to answers with an error that echoes it: the OTLP
 * collector (its status text repeats `Authorization: Bearer X`), a webhook (500 with
 * `bad signature for secret X`), a Slack URL (500 echoing its path), PagerDuty (400 echoing the
 * routing_key, whole and base64), an SMTP relay (535 repeating the AUTH password). The real
 * daemon runs against them twice, logging json and pretty; no form of any credential -- whole,
 * an 8+ character part, base64, URL-encoded, JSON-escaped -- may reach a log line, the store's
 * bytes, /status, /alerts or /metrics.
 */
const OTLP_TOKEN = "otlp-tok/9c4e+b2d7a1";
const HOOK_SECRET = "hook-secret-4f1a8c2e9b7d";
const SLACK_PATH = "T000/B000/slackpath5e9c3a";
const ROUTING_KEY = "routing-key-8d2f6b1e";
const SMTP_PASSWORD = "smtp-pass-3a7e1c9f";
/** Substituted into a receiver's and the collector's URL, which are not secret fields themselves. */
const HOOK_URL_TOKEN = "hook-url-tok-6b3d0e8a";
const OTLP_URL_KEY = "otlp-url-key-1f5c7a9e";
const b64 = (s: string) => Buffer.from(s).toString("base64");
const SECRETS = [
  OTLP_TOKEN,
  HOOK_SECRET,
  SLACK_PATH,
  ROUTING_KEY,
  SMTP_PASSWORD,
  HOOK_URL_TOKEN,
  OTLP_URL_KEY,
];
const CANARIES = SECRETS.flatMap((s) => [s, b64(s), encodeURIComponent(s), JSON.stringify(s).slice(1, -1)]);
const ENV = {
  ...process.env,
  OTLP_TOKEN,
  HOOK_SECRET,
  SLACK_PATH,
  ROUTING_KEY,
  SMTP_PASSWORD,
  HOOK_URL_TOKEN,
  OTLP_URL_KEY,
};

/** What a careless endpoint says back: the credential it got, in its status text and its body. */
function echoing(answer: (req: IncomingMessage, body: string) => { status: number; echo: string }): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const { status, echo } = answer(req, body);
      res.writeHead(status, `refused ${echo}`, { "content-type": "text/plain" });
      res.end(`error: ${echo} ${b64(echo)}`);
    });
  });
}

/** A minimal SMTP relay that refuses AUTH and repeats the decoded credentials in its reply. */
function echoingSmtp(): TcpServer {
  return createTcpServer((socket) => {
    socket.write("220 relay.test ESMTP\r\n");
    let buffered = "";
    socket.on("data", (chunk) => {
      buffered += chunk;
      let newline = buffered.indexOf("\r\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 2);
        const verb = line.split(" ")[0]!.toUpperCase();
        if (verb === "EHLO") socket.write("250-relay.test\r\n250 AUTH PLAIN LOGIN\r\n");
        else if (verb === "HELO") socket.write("250 relay.test\r\n");
        else if (verb === "AUTH") {
          const decoded = Buffer.from(line.split(" ")[2] ?? "", "base64").toString("utf8");
          socket.write(`535 5.7.8 bad credentials ${decoded.replaceAll("\u0000", " ")} (${line})\r\n`);
        } else if (verb === "QUIT") socket.end("221 bye\r\n");
        else socket.write("503 5.5.1 bad sequence\r\n");
        newline = buffered.indexOf("\r\n");
      }
    });
    socket.on("error", () => {});
  });
}

const portOf = (s: Server | TcpServer) => (s.address() as AddressInfo).port;

function configFor(ports: Record<string, number>): string {
  const at = (name: string) => `http://127.0.0.1:${ports[name]}`;
  return `version: 1
agent:
  region: test
  listen: 127.0.0.1:0
  data_dir: ./evidence
  otlp: {endpoint: "${at("otlp")}/v1/metrics?key=\${OTLP_URL_KEY}", interval: 1s, headers: {Authorization: "Bearer \${OTLP_TOKEN}"}}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
targets:
  api: {base_url: "${at("api")}", environment: simulator}
probes:
  - {id: payment-request-read, category: payment_request, target: api, every: 1s, path: /payments, timeout_ms: 2000}
alerting:
  for: 1s
  group_wait: 0s
  group_interval: 1s
  receivers:
    - {id: hook, type: webhook, url: "${at("hook")}/hook?token=\${HOOK_URL_TOKEN}", secret: "\${HOOK_SECRET}"}
    - {id: chat, type: slack, url: "${at("slack")}/services/\${SLACK_PATH}"}
    - {id: pager, type: pagerduty, url: "${at("pager")}/v2/enqueue", routing_key: "\${ROUTING_KEY}"}
    - {id: mail, type: email, smtp: {host: 127.0.0.1, port: ${ports.smtp}, from: agent@merchant.test, to: oncall@merchant.test, starttls: false, username: agent, password: "\${SMTP_PASSWORD}"}}
`;
}

interface Seen {
  readonly where: string;
  readonly text: string;
}

/** One real `run` in its own directory: everything it said and served, and its store's bytes. */
async function runAgent(root: string, format: "json" | "pretty", config: string): Promise<Seen[]> {
  const dir = await mkdtemp(join(root, `${format}-`));
  await writeFile(join(dir, "slo.yaml"), config);
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, "run", "--config", "slo.yaml", "--log-format", format, "--debug"],
    { cwd: dir, env: ENV },
  );
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const seen: Seen[] = [];
  try {
    const url = await eventually(
      async () => /listening on ([^\s"]+)/.exec(out)?.[1] ?? null,
      60_000,
      "the agent",
    );
    // Every receiver has failed at least once and the collector has refused a push.
    await eventually(
      async () =>
        ["hook", "chat", "pager", "mail"].every((id) => new RegExp(`${id}\\b[^\\n]*fail`).test(out)) &&
        /OTLP push[^\n]*failed/.test(out)
          ? true
          : null,
      90_000,
      `failed deliveries logged (${format})`,
    );
    for (const page of ["/status", "/alerts", "/metrics"]) {
      seen.push({ where: `${format} ${page}`, text: await (await fetch(`${url}${page}`)).text() });
    }
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
  seen.push({ where: `${format} logs`, text: out });
  const store = join(dir, "evidence");
  for (const f of readdirSync(store))
    seen.push({ where: `${format} store ${f}`, text: readFileSync(join(store, f)).toString("latin1") });
  return seen;
}

describe("receivers and the OTLP collector that echo the credential in their errors", () => {
  const servers: (Server | TcpServer)[] = [];
  let root: string;
  let config: string;
  beforeAll(async () => {
    const api = createServer((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" }).end('{"error_code":"INTERNAL"}');
    });
    const otlp = echoing((req) => ({ status: 401, echo: `Authorization: ${req.headers.authorization}` }));
    const hook = echoing(() => ({ status: 500, echo: `bad signature for secret ${HOOK_SECRET}` }));
    const slack = echoing((req) => ({ status: 500, echo: `no such hook ${req.url}` }));
    const pager = echoing((_req, body) => ({
      status: 400,
      echo: `invalid routing_key ${String(JSON.parse(body).routing_key)}`,
    }));
    const smtp = echoingSmtp();
    const named = { api, otlp, hook, slack, pager, smtp };
    for (const server of Object.values(named)) {
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    }
    config = configFor(Object.fromEntries(Object.entries(named).map(([k, s]) => [k, portOf(s)])));
    root = await mkdtemp(join(tmpdir(), "slo-echo-receivers-"));
  });
  afterAll(async () => {
    for (const server of servers) {
      if ("closeAllConnections" in server) server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await rm(root, { recursive: true, force: true });
  });

  it("keeps every form of every credential out of both log formats, the store, /status, /alerts and /metrics", async () => {
    const seen = [...(await runAgent(root, "json", config)), ...(await runAgent(root, "pretty", config))];
    for (const { where, text } of seen) {
      for (const canary of CANARIES) expect(text.includes(canary), `${canary} in ${where}`).toBe(false);
    }
    // The attack was seen: deliveries failed and the failures were recorded.
    const logs = seen.filter((s) => s.where.endsWith("logs")).map((s) => s.text);
    expect(logs.join("")).toMatch(/OTLP push[^\n]*failed/);
    expect(seen.find((s) => s.where === "json /alerts")!.text.length).toBeGreaterThan(100);
  }, 300_000);
});
