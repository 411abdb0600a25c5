/**
 * The running agent (`slo-agent demo`) pushing OTLP/HTTP to a real loopback receiver that decodes
 * what arrives: the metric names of contract section 5, `region` and `agent` on every data point,
 * counts equal to the results in the evidence store, and the credential header sent but never
 * logged, even when the collector rejects the push and echoes the key back in its error.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRIC } from "../../src/export/names.js";
import { eventually, type Running, startProcess } from "./live-processes.js";

const REPO = join(import.meta.dirname, "../..");
const CLI = join(REPO, "dist/cli/main.js");
const KEY = "otlp-key-5f3c9a1e";

interface Attribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number };
}
interface DataPoint {
  attributes: Attribute[];
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
}
interface Metric {
  name: string;
  sum?: { dataPoints: DataPoint[] };
  gauge?: { dataPoints: DataPoint[] };
  histogram?: { dataPoints: DataPoint[] };
}
interface Push {
  apiKey: string | undefined;
  resource: Attribute[];
  metrics: Metric[];
}

let dir: string;
let receiver: Server;
let agent: Running;
const pushes: Push[] = [];
/** Everything the agent wrote, stdout and stderr, from its first line to its last. */
const logged: string[] = [];

/** Answers the first push 401 with the key echoed back (as some collectors do), the rest 200. */
async function startReceiver(): Promise<string> {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        resourceMetrics: { resource: { attributes: Attribute[] }; scopeMetrics: { metrics: Metric[] }[] }[];
      };
      const apiKey = request.headers["x-api-key"] as string | undefined;
      for (const r of body.resourceMetrics) {
        pushes.push({
          apiKey,
          resource: r.resource.attributes,
          metrics: r.scopeMetrics.flatMap((s) => s.metrics),
        });
      }
      const status = pushes.length === 1 ? 401 : 200;
      response.writeHead(status, { "content-type": "application/json" });
      response.end(status === 200 ? "{}" : JSON.stringify({ error: `invalid api key ${apiKey}` }));
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/metrics`;
}

const text = (attributes: Attribute[], key: string) =>
  attributes.find((a) => a.key === key)?.value.stringValue;
const number = (p: DataPoint) => Number(p.asInt ?? p.asDouble ?? p.count ?? Number.NaN);
const lastPush = () => pushes[pushes.length - 1]!;
const metricOf = (push: Push, name: string) => push.metrics.find((m) => m.name === name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-otlp-agent-"));
  const endpoint = await startReceiver();
  writeFileSync(
    join(dir, "slo.yaml"),
    [
      "version: 1",
      "agent:",
      "  region: oc",
      "  id: agent-oc-1",
      "  listen: 127.0.0.1:0",
      "  data_dir: ./evidence",
      // On a loaded CI box the stall guard (50 ms by default) can flag every result agent_error:
      // excluded, they leave no duration and no availability to push (this suite failed so).
      "  max_stall_ms: 1000",
      `  otlp: {endpoint: "${endpoint}", interval: 1s, headers: {x-api-key: "\${OTLP_KEY}"}}`,
      "service_classes:",
      "  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}",
      "categories:",
      "  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}",
      "targets:",
      `  klarna: {base_url: "http://127.0.0.1:9", environment: simulator}`,
      "probes:",
      "  - {id: payment-request-read, category: payment_request, target: klarna, every: 30s, path: /payments/v1/sessions/00000000-0000-0000-0000-000000000000}",
      "",
    ].join("\n"),
  );
  agent = startProcess(
    process.execPath,
    [
      CLI,
      "demo",
      "--config",
      join(dir, "slo.yaml"),
      "--listen",
      "127.0.0.1:0",
      "--every",
      "250ms",
      "--log-level",
      "debug",
    ],
    REPO,
    { OTLP_KEY: KEY },
  );
  agent.child.stdout!.on("data", (chunk: Buffer) => logged.push(chunk.toString("utf8")));
  agent.child.stderr!.on("data", (chunk: Buffer) => logged.push(chunk.toString("utf8")));
  await agent.listening(60_000);
  // A push accepted after the rejected one, with probe results in it.
  await eventually(
    async () => (pushes.length >= 2 && metricOf(lastPush(), METRIC.probeRequests) ? true : null),
    30_000,
    "an accepted OTLP push with probe results",
  );
  // Shutdown flushes a final push: from then on the store and the last push hold the same results.
  await agent.stop();
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the agent pushing OTLP/HTTP to a loopback receiver", () => {
  it("sends the credential header on every push", () => {
    expect(pushes.map((p) => p.apiKey)).toEqual(pushes.map(() => KEY));
  });

  it("pushes the contract's metric names, region and agent on every data point", () => {
    const push = lastPush();
    const names = push.metrics.map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining([METRIC.probeRequests, METRIC.probeDuration, METRIC.availability]),
    );
    expect(text(push.resource, "service.instance.id")).toBe("agent-oc-1");
    for (const metric of push.metrics.filter((m) => m.name.startsWith("slo_"))) {
      const points = (metric.sum ?? metric.gauge ?? metric.histogram)!.dataPoints;
      for (const point of points) {
        expect([metric.name, text(point.attributes, "region"), text(point.attributes, "agent")]).toEqual([
          metric.name,
          "oc",
          "agent-oc-1",
        ]);
      }
    }
  });

  it("counts exactly the results the evidence store holds", () => {
    const points = metricOf(lastPush(), METRIC.probeRequests)!.sum!.dataPoints;
    const pushed = points.reduce((total, p) => total + number(p), 0);
    const durations = metricOf(lastPush(), METRIC.probeDuration)!.histogram!.dataPoints;
    const db = new Database(join(dir, "evidence", "evidence.sqlite"), { readonly: true });
    const stored = (db.prepare("SELECT count(*) AS n FROM results").get() as { n: number }).n;
    // Excluded results (the stall guard's agent_error, even at 1000 ms) are counted, not timed.
    const timed = (
      db
        .prepare("SELECT count(*) AS n FROM results WHERE flags IS NULL OR instr(flags, 'agent_error') = 0")
        .get() as { n: number }
    ).n;
    db.close();
    expect(stored).toBeGreaterThan(0);
    expect(pushed).toBe(stored);
    expect(durations.reduce((total, p) => total + number(p), 0)).toBe(timed);
  });

  it("never logs the credential, not even the collector's error that echoes it", () => {
    const output = logged.join("");
    expect(output).toMatch(/OTLP push to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics failed/);
    expect(output).toMatch(/recovered/);
    expect(output).not.toContain(KEY);
  });
});
