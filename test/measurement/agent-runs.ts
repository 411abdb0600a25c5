import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { type Running, sleep, startProcess } from "../export/live-processes.js";
import { closedPort as refusingPort } from "../probes/loopback.js";
import { CLI, slo } from "../reports/cli-run.js";

/** Helpers for the measurement-validity suites: real loopback servers, `slo-agent run` and `report`. */

const cleanups: (() => Promise<void> | void)[] = [];
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}
/** For afterAll: stops every server and agent and removes every directory made here. */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** A loopback server answering every request with `status`. */
export async function answering(status: number): Promise<string> {
  const server: Server = createHttpServer((_req, res) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.unref();
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

/** A loopback server that answers its first `n` requests with 200, then stops listening (connections refused). */
export async function answeringThenDown(n: number): Promise<string> {
  let seen = 0;
  const server: Server = createHttpServer((_req, res) => {
    res.writeHead(200, { connection: "close" });
    const last = ++seen === n;
    // Closed once the last answer is written out: closing at once could reset the connection
    // before the answer left, and the agent would see a failure where the target answered.
    res.end("{}", () => {
      if (!last) return;
      server.close();
      server.closeAllConnections();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  server.unref();
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

/** A loopback server that answers its first `n` requests with 200, then accepts requests and never answers (a hang). */
export async function answeringThenHanging(n: number): Promise<string> {
  const [url] = await answeringThenHangingOn(1, n);
  return url!;
}

/**
 * One process listening on `ports` loopback ports: it answers its first `n` requests (any port)
 * with 200, then hangs on every port at once (the provider's host failing).
 */
export async function answeringThenHangingOn(ports: number, n: number): Promise<string[]> {
  let seen = 0;
  const urls: string[] = [];
  for (let i = 0; i < ports; i++) {
    const server: Server = createHttpServer((_req, res) => {
      if (++seen > n) return;
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    server.unref();
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    urls.push(`http://127.0.0.1:${address.port}`);
  }
  return urls;
}

/** A loopback URL nothing listens on: every connection is refused. */
export async function closedPort(): Promise<string> {
  return `http://127.0.0.1:${await refusingPort()}`;
}

export function workDir(config: string): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-validity-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "slo.yaml"), config);
  return dir;
}

export function configFor(o: {
  provider: string;
  controls?: readonly string[];
  expect?: string;
  keepAlive?: boolean;
}) {
  const controls = (o.controls ?? [])
    .map((url, i) => `  - {id: c${i}, url: "${url}/health", every: 1s, timeout_ms: 10000}`)
    .join("\n");
  // The stall guard is off (max_stall_ms at its bound, one second): on a loaded test machine it would rightly
  // make some results agent_error and blur the exact figures these cases check; it has its own
  // tests (agent-stalls.test.ts, test/probes/stall-guard.test.ts).
  return `version: 1
agent: {region: test, listen: 127.0.0.1:0, data_dir: ./evidence, max_stall_ms: 1000}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
targets:
  api: {base_url: "${o.provider}", environment: simulator, keep_alive: ${o.keepAlive ?? true}, auth: {type: basic, username: merchant, password: pw-do-not-print}}
${controls ? `controls:\n${controls}\n` : ""}probes:
  - {id: payment-request-read, category: payment_request, target: api, every: 1s, timeout_ms: 1000, path: /payments/v1/sessions/0${o.expect ?? ""}}
`;
}

export interface AgentRun {
  readonly dir: string;
  readonly metrics: string;
}

/** Runs the agent until `done(metrics)` holds (or 20 s), keeps the last scrape, stops it. */
export async function runAgent(
  config: string,
  done: (metrics: string) => boolean,
  options: {
    prefix?: readonly string[];
    during?: (url: string, agent: Running) => Promise<void>;
    /** A directory already holding slo.yaml (and perhaps a store); default: a new one. */
    dir?: string;
  } = {},
): Promise<AgentRun> {
  const dir = options.dir ?? workDir(config);
  const [command, ...prefix] = [...(options.prefix ?? []), process.execPath];
  const agent: Running = startProcess(command!, [...prefix, CLI, "run", "--config", "slo.yaml"], dir);
  cleanups.push(() => agent.stop());
  const url = await agent.listening(60_000);
  await options.during?.(url, agent);
  let metrics = "";
  for (let i = 0; i < 200 && !done(metrics); i++) {
    await sleep(100);
    metrics = await fetch(`${url}/metrics`)
      .then((r) => r.text())
      .catch(() => metrics);
  }
  await agent.stop();
  expect(agent.child.exitCode, agent.output()).toBe(0);
  return { dir, metrics };
}

export function report(dir: string, format = "json") {
  const month = new Date().toISOString().slice(0, 7);
  const out = slo(["report", "--month", month, "--config", "slo.yaml", "--format", format], dir);
  expect(out.code === 0 || out.code === 1, out.stderr).toBe(true);
  expect(out.stdout + out.stderr).not.toContain("pw-do-not-print");
  return out.stdout;
}

/** The value of the first series of `name` whose labels contain every one of `labels`. */
export function seriesValue(metrics: string, name: string, ...labels: string[]): number | null {
  for (const line of metrics.split("\n")) {
    if (!line.startsWith(`${name}{`) || !labels.every((l) => line.includes(l))) continue;
    return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return null;
}
