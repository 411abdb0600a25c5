/**
 * Real-traffic ingest (contract section 19): OTLP/HTTP protobuf export requests of 512 CLIENT
 * spans each, sent by 4 concurrent senders to POST /v1/traces on a real listener, until every
 * span is committed to a real evidence store (hash chain included). The payloads are encoded
 * before the clock starts, so the figure is the agent's: decode, match, queue, write.
 * Target: 20,000 spans/s on 2 cores, with bounded memory (the write queue's 429 bound).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import protobuf from "protobufjs";
import { systemClock } from "../src/clock/system.js";
import { trafficRoutesOf } from "../src/config/traffic-wire.js";
import { startMetricsServer } from "../src/export/index.js";
import type { Target } from "../src/model/config.js";
import { Secret } from "../src/model/secret.js";
import { openEvidenceStore } from "../src/record/index.js";
import { trafficRoute } from "../src/traffic/endpoint.js";
import { COMMON_PROTO, RESOURCE_PROTO, TRACE_PROTO, TRACE_SERVICE_PROTO } from "../src/traffic/otlp-proto.js";
import { emit, round } from "./figures.js";

const SPANS_PER_REQUEST = 512;
const SENDERS = 4;
const TOKEN = "bench-traffic-token-0123456789";

const target: Target = {
  id: "klarna",
  baseUrl: "https://api.klarna.example",
  environment: "production",
  auth: { type: "none" },
  headers: {},
  maxRequestsPerSecond: null,
  keepAlive: true,
  tlsVerify: true,
};

/** Export requests as an SDK sends them: a resource, a scope, and CLIENT spans of two routes. */
function payloads(requests: number): Uint8Array[] {
  const root = new protobuf.Root();
  for (const source of [COMMON_PROTO, RESOURCE_PROTO, TRACE_PROTO, TRACE_SERVICE_PROTO])
    protobuf.parse(source, root);
  root.resolveAll();
  const type = root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
  const start = BigInt(Date.now()) * 1_000_000n;
  const attribute = (key: string, value: string | number) => ({
    key,
    value: typeof value === "number" ? { intValue: value } : { stringValue: value },
  });
  const out: Uint8Array[] = [];
  for (let r = 0; r < requests; r++) {
    const spans = Array.from({ length: SPANS_PER_REQUEST }, (_, i) => {
      const n = r * SPANS_PER_REQUEST + i;
      const id = Buffer.alloc(8);
      id.writeUInt32BE(n + 1, 4);
      const read = n % 2 === 1;
      const begin = start + BigInt(n) * 50_000n;
      return {
        traceId: Buffer.alloc(16, 7),
        spanId: id,
        name: read ? "GET" : "POST",
        kind: 3,
        startTimeUnixNano: String(begin),
        endTimeUnixNano: String(begin + 80_000_000n + BigInt(n % 997) * 100_000n),
        attributes: [
          attribute("http.request.method", read ? "GET" : "POST"),
          attribute(
            "url.full",
            read
              ? `https://api.klarna.example/payments/v1/sessions/${n.toString(36)}`
              : "https://api.klarna.example/payments/v1/sessions",
          ),
          attribute("server.address", "api.klarna.example"),
          attribute("server.port", 443),
          attribute("http.response.status_code", n % 50 === 0 ? 503 : read ? 200 : 201),
          attribute("network.protocol.version", "1.1"),
          attribute("user_agent.original", "node"),
        ],
      };
    });
    const message = {
      resourceSpans: [
        {
          resource: { attributes: [attribute("service.name", "shop"), attribute("host.name", "shop-1")] },
          scopeSpans: [{ scope: { name: "@opentelemetry/instrumentation-http" }, spans }],
        },
      ],
    };
    out.push(type.encode(type.fromObject(message)).finish());
  }
  return out;
}

export async function run({ quick }: { quick: boolean }): Promise<void> {
  const requests = quick ? 40 : 400;
  const total = requests * SPANS_PER_REQUEST;
  const bodies = payloads(requests);
  const dir = mkdtempSync(join(tmpdir(), "slo-bench-traffic-"));
  const store = openEvidenceStore({ dataDir: dir, clock: systemClock, logger: () => {} });
  const traffic = {
    token: new Secret(TOKEN),
    maxBodyBytes: 4 * 1024 * 1024,
    routes: trafficRoutesOf([
      { method: "POST", path: "/payments/v1/sessions", target: "klarna", category: "payment_request" },
      { method: "GET", path: "/payments/v1/sessions/{id}", target: "klarna", category: "payment_request" },
    ]),
  };
  let refused = 0;
  const server = await startMetricsServer({
    host: "127.0.0.1",
    port: 0,
    metrics: { serveScrape: (_q, r) => r.end() },
    ready: () => true,
    routes: [
      trafficRoute({
        settings: () => ({ traffic, targets: new Map([["klarna", target]]) }),
        sink: store,
        now: () => Date.now(),
        dropped: (n) => {
          refused += n;
        },
      }),
    ],
  });
  try {
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    let next = 0;
    let retries = 0;
    const wall = performance.now();
    const cpu = process.cpuUsage();
    const sender = async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        for (;;) {
          const response = await fetch(`${server.url}/v1/traces`, {
            method: "POST",
            headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/x-protobuf" },
            body,
          });
          await response.arrayBuffer();
          if (response.status === 200) break;
          if (response.status !== 429) throw new Error(`ingest answered ${response.status}`);
          retries++;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    store.flush();
    const seconds = (performance.now() - wall) / 1000;
    const used = process.cpuUsage(cpu);
    clearInterval(sampler);
    emit({
      bench: "traffic.ingest",
      spans: total,
      committed: store.committedResults,
      seconds: round(seconds),
      spans_per_s: Math.round(total / seconds),
      target_spans_per_s: 20_000,
      cpu_seconds: round((used.user + used.system) / 1e6),
      refused_429_retried: retries,
      refused_spans: refused,
      peak_rss_growth_mb: round((peakRss - rssBefore) / 1e6),
    });
  } finally {
    await server.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
