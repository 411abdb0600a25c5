import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { SpanKind } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { NodeTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-node";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { trafficRoutesOf } from "../../src/config/traffic-wire.js";
import { type MetricsServer, startMetricsServer } from "../../src/export/index.js";
import type { Target } from "../../src/model/config.js";
import { Secret } from "../../src/model/secret.js";
import type { TrafficSettings } from "../../src/model/traffic.js";
import { type EvidenceStore, openEvidenceStore, verifyEvidence } from "../../src/record/index.js";
import { trafficRoute } from "../../src/traffic/endpoint.js";

const TOKEN = "traffic-token-0123456789abcdef";
const START = Date.UTC(2026, 9, 1, 10);
const NS = 1_000_000n;

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

const traffic: TrafficSettings = {
  token: new Secret(TOKEN),
  maxBodyBytes: 64 * 1024,
  routes: trafficRoutesOf([
    { method: "POST", path: "/payments/v1/sessions", target: "klarna", category: "payment_request" },
    {
      method: "GET",
      path: "/payments/v1/sessions/{id}",
      target: "klarna",
      category: "read_only_payment_transaction",
    },
  ]),
};

interface SpanSpec {
  readonly id: string;
  readonly kind?: number;
  readonly startMs?: number;
  readonly durationMs?: number;
  readonly attributes: Record<string, string | number>;
}

/** An OTLP/JSON ExportTraceServiceRequest as an SDK's JSON exporter writes it. */
function otlpJson(spans: readonly SpanSpec[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "shop" } }] },
        scopeSpans: [
          {
            scope: { name: "test" },
            spans: spans.map((s) => {
              const start = BigInt(s.startMs ?? START) * NS;
              return {
                traceId: "0af7651916cd43dd8448eb211c80319c",
                spanId: s.id,
                name: "HTTP",
                kind: s.kind ?? 3,
                startTimeUnixNano: String(start),
                endTimeUnixNano: String(start + BigInt(Math.round((s.durationMs ?? 42) * 1e6))),
                attributes: Object.entries(s.attributes).map(([key, v]) => ({
                  key,
                  value: typeof v === "number" ? { intValue: String(v) } : { stringValue: v },
                })),
              };
            }),
          },
        ],
      },
    ],
  });
}

const post = (method: string, url: string, status?: number, extra: Record<string, string> = {}) => ({
  "http.request.method": method,
  "url.full": url,
  "server.address": "api.klarna.example",
  "server.port": 443,
  ...(status === undefined ? {} : { "http.response.status_code": status }),
  ...extra,
});

const dirs: string[] = [];
const closers: (() => unknown)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function agent(
  maxQueued?: number,
  now = START,
): Promise<{ server: MetricsServer; store: EvidenceStore; dropped: number[]; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "slo-traffic-"));
  dirs.push(dir);
  // The batch timer never fires on a fake clock: results wait in the queue until flush().
  const store = openEvidenceStore({ dataDir: dir, clock: new FakeClock(START), logger: () => {} });
  closers.push(() => store.close());
  const dropped: number[] = [];
  const server = await startMetricsServer({
    host: "127.0.0.1",
    port: 0,
    metrics: { serveScrape: (_q, r) => r.end() },
    ready: () => true,
    routes: [
      trafficRoute({
        settings: () => ({ traffic, targets: new Map([["klarna", target]]) }),
        sink: store,
        now: () => now,
        ...(maxQueued === undefined ? {} : { maxQueued }),
        dropped: (n) => dropped.push(n),
      }),
    ],
  });
  closers.push(() => server.close());
  return { server, store, dropped, dir };
}

async function send(
  server: MetricsServer,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${server.url}/v1/traces`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
    body,
  });
}

describe("POST /v1/traces (contract section 19)", () => {
  it("turns matching CLIENT spans into traffic results with templates only, and ignores the rest", async () => {
    const { server, store } = await agent();
    const response = await send(
      server,
      otlpJson([
        {
          id: "00000000000000a1",
          attributes: post("POST", "https://api.klarna.example/payments/v1/sessions", 201),
        },
        {
          id: "00000000000000a2",
          durationMs: 1234.5,
          attributes: post(
            "GET",
            "https://api.klarna.example/payments/v1/sessions/cust-4711?email=a%40b.example",
            503,
          ),
        },
        {
          id: "00000000000000a3",
          attributes: post("POST", "https://api.klarna.example/payments/v1/sessions", undefined, {
            "error.type": "ECONNRESET",
          }),
        },
        {
          id: "00000000000000a4",
          attributes: post("POST", "https://api.klarna.example/payments/v1/sessions", undefined, {
            "error.type": "AbortError",
          }),
        },
        // A server span, another host, a path no route has, a method no route has: not the SLA's.
        {
          id: "00000000000000b1",
          kind: 2,
          attributes: post("POST", "https://api.klarna.example/payments/v1/sessions", 201),
        },
        {
          id: "00000000000000b2",
          attributes: {
            ...post("POST", "https://other.example/payments/v1/sessions", 201),
            "server.address": "other.example",
          },
        },
        {
          id: "00000000000000b3",
          attributes: post("GET", "https://api.klarna.example/payments/v1/sessions/a/b", 200),
        },
        {
          id: "00000000000000b4",
          attributes: post("DELETE", "https://api.klarna.example/payments/v1/sessions/x", 204),
        },
      ]),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    store.flush();
    const stored = [...store.results({ from: START - 1, to: START + 1 })];
    expect(
      stored.map((r) => [
        r.probe,
        r.category,
        r.status,
        r.error,
        r.durationMs,
        r.correlationId,
        r.flags,
        r.source,
      ]),
    ).toEqual([
      [
        "traffic:GET /payments/v1/sessions/{id}",
        "read_only_payment_transaction",
        503,
        null,
        1234.5,
        "00000000000000a2",
        [],
        "traffic",
      ],
      [
        "traffic:POST /payments/v1/sessions",
        "payment_request",
        201,
        null,
        42,
        "00000000000000a1",
        [],
        "traffic",
      ],
      [
        "traffic:POST /payments/v1/sessions",
        "payment_request",
        null,
        "reset",
        42,
        "00000000000000a3",
        [],
        "traffic",
      ],
      [
        "traffic:POST /payments/v1/sessions",
        "payment_request",
        null,
        "aborted",
        42,
        "00000000000000a4",
        ["client_side"],
        "traffic",
      ],
    ]);
    // Nothing of the real request is stored: no id from the path, no query, no trace id.
    const file = readFileSync(store.path).toString("latin1");
    for (const secretish of ["cust-4711", "email", "a%40b", "0af7651916cd43dd", "shop"])
      expect(file).not.toContain(secretish);
  });

  it("reads the protobuf the OpenTelemetry SDK's OTLP exporter sends, integer attributes included", async () => {
    const { server, store } = await agent();
    const provider = new NodeTracerProvider({
      spanProcessors: [
        new SimpleSpanProcessor(
          new OTLPTraceExporter({
            url: `${server.url}/v1/traces`,
            headers: { Authorization: `Bearer ${TOKEN}` },
          }),
        ),
      ],
    });
    const tracer = provider.getTracer("merchant");
    const span = tracer.startSpan("POST", {
      kind: SpanKind.CLIENT,
      startTime: START,
      attributes: post("POST", "https://api.klarna.example/payments/v1/sessions", 502),
    });
    span.end(START + 250);
    await provider.forceFlush();
    await provider.shutdown();
    store.flush();
    const stored = [...store.results({ from: START - 1, to: START + 1 })];
    expect(stored.map((r) => [r.probe, r.status, r.durationMs, r.correlationId])).toEqual([
      ["traffic:POST /payments/v1/sessions", 502, 250, span.spanContext().spanId],
    ]);
  });

  it("reads gzip bodies, and stores a span sent twice (a retried export) once", async () => {
    const { server, store } = await agent();
    const body = gzipSync(
      otlpJson([
        {
          id: "00000000000000c1",
          attributes: post("POST", "https://api.klarna.example/payments/v1/sessions", 200),
        },
      ]),
    );
    for (let i = 0; i < 2; i++)
      expect((await send(server, body, { "content-encoding": "gzip" })).status).toBe(200);
    store.flush();
    expect([...store.results({ from: START - 1, to: START + 1 })]).toHaveLength(1);
  });

  it("stores a span id once even when it is re-sent 1 ms later or on another route", async () => {
    const { server, store, dir } = await agent();
    const first = {
      id: "00000000000000c2",
      attributes: post("POST", "https://api.klarna.example/payments/v1/sessions", 200),
    };
    expect((await send(server, otlpJson([first]))).status).toBe(200);
    store.flush();
    const again = [
      { ...first, startMs: START + 1 },
      {
        id: "00000000000000c2",
        startMs: START + 2,
        attributes: post("GET", "https://api.klarna.example/payments/v1/sessions/x1", 500),
      },
      { id: "00000000000000c3", attributes: first.attributes },
    ];
    expect((await send(server, otlpJson(again))).status).toBe(200);
    store.flush();
    expect(
      [...store.results({ from: START - 1, to: START + 10 })].map((r) => [r.correlationId, r.ts, r.status]),
    ).toEqual([
      ["00000000000000c2", START, 200],
      ["00000000000000c3", START, 200],
    ]);
    // Many in one batch (the multi-row INSERT path) with a repeat among them.
    const many = Array.from({ length: 70 }, (_, i) => ({
      id: (0x100 + i).toString(16).padStart(16, "0"),
      startMs: START + 100 + i,
      attributes: first.attributes,
    }));
    many[10] = { ...many[10]!, id: "00000000000000c2" };
    many[40] = { ...many[40]!, id: many[30]!.id };
    expect((await send(server, otlpJson(many))).status).toBe(200);
    store.flush();
    expect([...store.results({ from: START - 1, to: START + 1000 })]).toHaveLength(2 + 68);
    // The repeats refused leave the chain whole.
    expect(verifyEvidence(dir).ok).toBe(true);
  });

  it("answers partial_success for a matching span it cannot count", async () => {
    const { server } = await agent();
    const response = await send(
      server,
      otlpJson([
        {
          id: "00000000000000d1",
          attributes: post("POST", "https://api.klarna.example/payments/v1/sessions"),
        },
      ]),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      partialSuccess: { rejectedSpans: string; errorMessage: string };
    };
    expect(body.partialSuccess.rejectedSpans).toBe("1");
    expect(body.partialSuccess.errorMessage).toMatch(/neither http.response.status_code nor error.type/);
  });

  it("rejects spans dated far from the agent's clock (a sender's clock gone wrong), and takes the rest", async () => {
    // Ten days into the month: the 7-day bound lies inside it.
    const now = START + 10 * 24 * 3_600_000;
    const { server, store } = await agent(undefined, now);
    const url = "https://api.klarna.example/payments/v1/sessions";
    const response = await send(
      server,
      otlpJson([
        { id: "00000000000000f1", startMs: now + 6 * 60_000, attributes: post("POST", url, 201) },
        { id: "00000000000000f2", startMs: now - 8 * 24 * 3_600_000, attributes: post("POST", url, 201) },
        { id: "00000000000000f3", startMs: now - 6 * 24 * 3_600_000, attributes: post("POST", url, 201) },
        { id: "00000000000000f4", startMs: now + 4 * 60_000, attributes: post("POST", url, 201) },
      ]),
    );
    const body = (await response.json()) as {
      partialSuccess: { rejectedSpans: string; errorMessage: string };
    };
    expect(body.partialSuccess.rejectedSpans).toBe("2");
    expect(body.partialSuccess.errorMessage).toBe(
      "2 span(s) started more than 5 minutes ahead of the agent's clock or more than 7 days ago: check the sender's clock",
    );
    store.flush();
    expect([...store.results({ from: 0, to: now * 2 })].map((r) => r.correlationId)).toEqual([
      "00000000000000f3",
      "00000000000000f4",
    ]);
  });

  it("refuses spans of a month closed more than 15 minutes ago, so its figures do not change after it", async () => {
    const monthEnd = Date.UTC(2026, 10, 1);
    const url = "https://api.klarna.example/payments/v1/sessions";
    const lateSpan = (id: string) => ({ id, startMs: monthEnd - 60_000, attributes: post("POST", url, 201) });
    // Within the grace period the last batch of October is still taken.
    const early = await agent(undefined, monthEnd + 14 * 60_000);
    expect(await (await send(early.server, otlpJson([lateSpan("00000000000000e1")]))).json()).toEqual({});
    early.store.flush();
    expect([...early.store.results({ from: 0, to: monthEnd * 2 })]).toHaveLength(1);

    const late = await agent(undefined, monthEnd + 16 * 60_000);
    const response = await send(
      late.server,
      otlpJson([
        lateSpan("00000000000000e2"),
        { id: "00000000000000e3", startMs: monthEnd + 60_000, attributes: post("POST", url, 201) },
      ]),
    );
    const body = (await response.json()) as {
      partialSuccess: { rejectedSpans: string; errorMessage: string };
    };
    expect(body.partialSuccess).toEqual({
      rejectedSpans: "1",
      errorMessage:
        "1 span(s) started in a month that ended more than 15 minutes ago: its figures are closed and late spans are not taken",
    });
    late.store.flush();
    expect([...late.store.results({ from: 0, to: monthEnd * 2 })].map((r) => r.correlationId)).toEqual([
      "00000000000000e3",
    ]);
  });

  const refusals: {
    name: string;
    body: string | Buffer;
    headers?: Record<string, string>;
    status: number;
    message: RegExp;
  }[] = [
    {
      name: "no token",
      body: "{}",
      headers: { authorization: "" },
      status: 401,
      message: /^unauthorized: send Authorization: Bearer <traffic.token>/,
    },
    {
      name: "a wrong token",
      body: "{}",
      headers: { authorization: "Bearer wrong-token-000000000" },
      status: 401,
      message: /^unauthorized/,
    },
    {
      name: "another content type",
      body: "{}",
      headers: { "content-type": "text/plain" },
      status: 415,
      message: /^unsupported content-type "text\/plain": send application\/x-protobuf or application\/json/,
    },
    {
      name: "another encoding",
      body: "{}",
      headers: { "content-encoding": "br" },
      status: 415,
      message: /^unsupported content-encoding "br"/,
    },
    {
      name: "JSON that is not JSON",
      body: "{nope",
      status: 400,
      message: /^bad OTLP request: not valid JSON/,
    },
    {
      name: "JSON of the wrong shape",
      body: '{"resourceSpans":{}}',
      status: 400,
      message: /^bad OTLP request: resourceSpans must be an array of objects/,
    },
    {
      name: "a bad span id",
      body: otlpJson([{ id: "xyz", attributes: {} }]),
      status: 400,
      message: /spanId must be 16 hex digits/,
    },
    {
      name: "protobuf that is not protobuf",
      body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      headers: { "content-type": "application/x-protobuf" },
      status: 400,
      message: /^bad OTLP request: not a valid OTLP protobuf ExportTraceServiceRequest/,
    },
    {
      name: "protobuf with an invalid wire type (0f 00)",
      body: Buffer.from([0x0f, 0x00]),
      headers: { "content-type": "application/x-protobuf" },
      status: 400,
      message: /^bad OTLP request: not a valid OTLP protobuf ExportTraceServiceRequest \(invalid wire type 7/,
    },
    {
      name: "protobuf with a known field sent as another wire type",
      body: Buffer.from([0x08, 0x01]),
      headers: { "content-type": "application/x-protobuf" },
      status: 400,
      message: /resourceSpans sent with wire type 0, not 2/,
    },
    {
      name: "gzip that is not gzip",
      body: "plain",
      headers: { "content-encoding": "gzip" },
      status: 400,
      message: /^body is not valid gzip/,
    },
    {
      name: "a body over max_body_bytes",
      body: "x".repeat(65 * 1024),
      status: 413,
      message: /^request body larger than traffic.max_body_bytes \(65536\)/,
    },
    {
      name: "a gzip bomb",
      body: gzipSync(Buffer.alloc(1024 * 1024, 32)),
      headers: { "content-encoding": "gzip" },
      status: 413,
      message: /^decompressed body larger than traffic.max_body_bytes/,
    },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name} with ${c.status} and a clear message`, async () => {
      const { server, store } = await agent();
      const response = await send(server, c.body, c.headers);
      expect(response.status).toBe(c.status);
      expect(await response.text()).toMatch(c.message);
      store.flush();
      expect([...store.results({ from: 0, to: START * 2 })]).toEqual([]);
    });
  }

  it("answers 429 with Retry-After when the write queue is full, takes nothing of that request, and takes it on retry", async () => {
    const { server, store, dropped } = await agent(3);
    const spans = (prefix: string, n: number) =>
      otlpJson(
        Array.from({ length: n }, (_, i) => ({
          id: `${prefix}${String(i).padStart(16 - prefix.length, "0")}`,
          attributes: post("POST", "https://api.klarna.example/payments/v1/sessions", 201),
        })),
      );
    expect((await send(server, spans("e", 3))).status).toBe(200);
    const full = await send(server, spans("f", 2));
    expect(full.status).toBe(429);
    expect(full.headers.get("retry-after")).toBe("5");
    expect(dropped).toEqual([2]);
    expect(store.health().buffered).toBe(3);
    store.flush();
    expect((await send(server, spans("f", 2))).status).toBe(200);
    store.flush();
    expect([...store.results({ from: START - 1, to: START + 1 })]).toHaveLength(5);
  });
});
