import { errors, request } from "undici";
import { describe, expect, it } from "vitest";
import { ask, clockAt, withSimulator } from "./simulator-fixture.js";

const ORDER = "/ordermanagement/v1/orders/00000000-0000-0000-0000-000000000000";
const DISPUTES = "/v2/disputes?limit=1";

/** Faults that still produce an HTTP answer: what the client gets. */
const ANSWERED_FAULTS: {
  rule: string;
  scenario: string;
  path: string;
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}[] = [
  {
    rule: "error_rate 1 answers every request 500 with the v1 INTERNAL_SERVER_ERROR body",
    scenario: "default: {error_rate: 1}",
    path: ORDER,
    status: 500,
    body: { error_code: "INTERNAL_SERVER_ERROR", error_messages: ["Internal server error"] },
  },
  {
    rule: "error_status 503 answers TEMPORARILY_UNAVAILABLE",
    scenario: "default: {error_rate: 1, error_status: 503}",
    path: ORDER,
    status: 503,
    body: { error_code: "TEMPORARILY_UNAVAILABLE" },
  },
  {
    rule: "error_format v2 selects the newer error body",
    scenario: "categories: {disputes: {error_rate: 1, error_format: v2}}",
    path: DISPUTES,
    status: 500,
    body: {
      error_type: "TECHNICAL_ERROR",
      error_code: "INTERNAL_SERVER_ERROR",
      error_message: "Internal server error",
      errors: [{ code: "INTERNAL_SERVER_ERROR", message: "Internal server error" }],
    },
  },
  {
    rule: "client_error_rate 1 answers a served 4xx (BAD_VALUE by default)",
    scenario: "default: {client_error_rate: 1}",
    path: ORDER,
    status: 400,
    body: { error_code: "BAD_VALUE" },
  },
  {
    rule: "client_error_status picks the 4xx and its Klarna code",
    scenario: "default: {client_error_rate: 1, client_error_status: 409}",
    path: ORDER,
    status: 409,
    body: { error_code: "CONFLICT" },
  },
  {
    rule: "maintenance answers 503 TEMPORARILY_UNAVAILABLE with Retry-After",
    scenario: "default: {maintenance: true}",
    path: ORDER,
    status: 503,
    body: { error_code: "TEMPORARILY_UNAVAILABLE" },
    headers: { "retry-after": "300" },
  },
  {
    rule: "a category's block wins over default key by key",
    scenario: "default: {error_rate: 1}\ncategories: {disputes: {error_rate: 0}}",
    path: DISPUTES,
    status: 200,
    body: { pagination: { count: 1, next: null } },
  },
  {
    rule: "a fault in one category leaves the others alone",
    scenario: "categories: {disputes: {error_rate: 1}}",
    path: ORDER,
    status: 200,
    body: { status: "AUTHORIZED" },
  },
];

describe("faults that still answer", () => {
  for (const c of ANSWERED_FAULTS) {
    it(c.rule, async () => {
      await withSimulator(c.scenario, async (sim, client) => {
        for (let i = 0; i < 5; i++) {
          const answer = await ask(client, sim.url + c.path);
          expect(answer.status).toBe(c.status);
          expect(answer.json).toMatchObject(c.body);
          expect(answer.headers).toMatchObject(c.headers ?? {});
          const id = answer.headers["klarna-correlation-id"];
          if (c.status >= 400) expect(Object.values(answer.json as object)).toContain(id);
        }
      });
    });
  }
});

describe("bursts", () => {
  const BURST = "categories: {settlements: {burst: {every_s: 60, duration_s: 10, status: 502}}}";
  const SETTLEMENTS = "/settlements/v1/payouts/summary";
  const cases = [
    {
      rule: "inside the burst (5 s after a multiple of every_s) answers the burst status",
      at: 120_000 + 5_000,
      status: 502,
    },
    { rule: "at the very start of a burst it answers the burst status", at: 180_000, status: 502 },
    { rule: "after duration_s the category answers normally again", at: 120_000 + 10_000, status: 200 },
    { rule: "between bursts the category answers normally", at: 120_000 + 45_000, status: 200 },
  ];
  for (const c of cases) {
    it(c.rule, async () => {
      await withSimulator(
        BURST,
        async (sim, client) => expect((await ask(client, sim.url + SETTLEMENTS)).status).toBe(c.status),
        {
          clock: clockAt(() => c.at),
        },
      );
    });
  }
});

describe("faults that break the connection", () => {
  it("hang_probability 1 never answers: the client times out, and the request counts as hang", async () => {
    await withSimulator("default: {hang_probability: 1}", async (sim, client) => {
      const attempt = ask(client, sim.url + ORDER, { headersTimeout: 300 });
      await expect(attempt).rejects.toBeInstanceOf(errors.HeadersTimeoutError);
      expect(sim.requestCounts()).toEqual({ read_only_payment_transaction: 1 });
    });
  });

  it("reset_probability 1 resets the connection before any response", async () => {
    await withSimulator("default: {reset_probability: 1}", async (sim, client) => {
      const error = await ask(client, sim.url + ORDER).then(
        () => null,
        (e: unknown) => e as Error & { code?: string },
      );
      // A real TCP reset, as a crashed load balancer would send, not a polite close.
      expect(error?.code).toBe("ECONNRESET");
    });
  });

  it("reset_mid_body_probability 1 sends the status and headers, then cuts the body short", async () => {
    await withSimulator("default: {reset_mid_body_probability: 1}", async (sim, client) => {
      const response = await request(sim.url + ORDER, { dispatcher: client });
      expect(response.statusCode).toBe(200);
      expect(Number(response.headers["content-length"])).toBeGreaterThan(0);
      await expect(response.body.text()).rejects.toThrow();
    });
  });

  it("slow_body sends headers at once and trickles the padded body at bytes_per_second", async () => {
    await withSimulator(
      "default: {slow_body: {bytes_per_second: 4000, bytes: 2000}}",
      async (sim, client) => {
        const started = performance.now();
        const response = await request(sim.url + ORDER, { dispatcher: client });
        const headersAt = performance.now() - started;
        const text = await response.body.text();
        const bodyTookMs = performance.now() - started - headersAt;
        expect(Buffer.byteLength(text)).toBe(2000);
        expect(JSON.parse(text)).toMatchObject({ status: "AUTHORIZED" });
        // 2000 bytes at 4000 B/s: half a second at least (timers never fire early by more than a tick).
        expect(bodyTookMs).toBeGreaterThanOrEqual(450);
      },
    );
  });
});
