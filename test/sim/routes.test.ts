import { describe, expect, it } from "vitest";
import { SIM_CATEGORIES } from "../../src/sim/index.js";
import { ask, serverTimingMs, UUID, withSimulator } from "./simulator-fixture.js";

const ID = "00000000-0000-0000-0000-000000000000";

/** The default probes of the Klarna profile, and what a user relies on in each answer. */
const DEFAULT_PROBES: {
  probe: string;
  category: string;
  method: string;
  path: string;
  body?: string;
  status: number;
  check: (json: Record<string, unknown>) => void;
}[] = [
  {
    probe: "payment-request-read",
    category: "payment_request",
    method: "GET",
    path: `/payments/v1/sessions/${ID}`,
    status: 200,
    check: (j) => {
      expect(j.client_token).toEqual(expect.any(String));
      expect(j.payment_method_categories).toEqual(
        expect.arrayContaining([expect.objectContaining({ identifier: "pay_later" })]),
      );
      expect(j.status).toBe("incomplete");
    },
  },
  {
    probe: "payment-confirmation-invalid-token",
    category: "payment_confirmation",
    method: "POST",
    path: `/payments/v1/authorizations/${ID}/order`,
    body: "{}",
    status: 404,
    check: (j) => expect(j.error_code).toBe("INVALID_AUTH_TOKEN"),
  },
  {
    probe: "customer-token-read",
    category: "customer_token_charge",
    method: "GET",
    path: `/customer-token/v1/tokens/${ID}`,
    status: 200,
    check: (j) => expect(j.status).toBe("ACTIVE"),
  },
  {
    probe: "read-only-identity-lookup",
    category: "read_only_identity",
    method: "GET",
    path: "/v2/identity/customers/lookup?email=probe%40example.com",
    status: 200,
    check: (j) => expect(j.customer_exists).toBe(true),
  },
  {
    probe: "payment-transaction-capture-invalid-order",
    category: "payment_transaction_general",
    method: "POST",
    path: `/ordermanagement/v1/orders/${ID}/captures`,
    body: '{"captured_amount":0}',
    status: 404,
    check: (j) => expect(j.error_code).toBe("NO_SUCH_ORDER"),
  },
  {
    probe: "order-read",
    category: "read_only_payment_transaction",
    method: "GET",
    path: `/ordermanagement/v1/orders/${ID}`,
    status: 200,
    check: (j) => {
      expect(j).toMatchObject({ order_id: ID, status: "AUTHORIZED", order_amount: 10000 });
      expect(j.captures).toEqual([]);
    },
  },
  {
    probe: "settlements-payout-summary",
    category: "settlements",
    method: "GET",
    path: "/settlements/v1/payouts/summary?start_date=2026-01-01T00:00:00Z&end_date=2026-01-02T00:00:00Z",
    status: 200,
    check: (j) =>
      expect((j as unknown as Record<string, unknown>[])[0]).toMatchObject({
        summary_payout_date_start: "2026-01-01T00:00:00Z",
        summary_settlement_currency: "USD",
      }),
  },
  {
    probe: "disputes-list",
    category: "disputes",
    method: "GET",
    path: "/v2/disputes?limit=1",
    status: 200,
    check: (j) => expect(j.disputes).toHaveLength(1),
  },
  {
    probe: "identity-token-read",
    category: "identity",
    method: "GET",
    path: `/v2/identity/tokens/${ID}`,
    status: 200,
    check: (j) => expect(j).toMatchObject({ token_id: ID, status: "ACTIVE" }),
  },
  {
    probe: "account-onboarding-status",
    category: "account_onboarding",
    method: "GET",
    path: "/v2/distribution/onboard/requests?limit=1",
    status: 200,
    check: (j) => expect(j.onboarding_requests).toHaveLength(1),
  },
  {
    probe: "account-read",
    category: "account_operations",
    method: "GET",
    path: "/v2/accounts?limit=1",
    status: 200,
    check: (j) => expect(j.accounts).toHaveLength(1),
  },
  {
    probe: "messaging-placements",
    category: "messaging_placements",
    method: "GET",
    path: "/messaging/v3?locale=en-US&placement_key=credit-promotion-badge&purchase_amount=10000",
    status: 200,
    check: (j) => expect(JSON.stringify(j)).toContain("4 interest-free payments of $25.00"),
  },
  {
    probe: "personalized-messaging",
    category: "personalized_message_placements",
    method: "GET",
    path: "/messaging/v3/personalized?locale=en-US&placement_key=top-strip-promotion-badge&purchase_amount=10000",
    status: 200,
    check: (j) => expect(j.content).toBeDefined(),
  },
  {
    probe: "payment-session-create",
    category: "payment_request",
    method: "POST",
    path: "/payments/v1/sessions",
    body: '{"purchase_country":"US","purchase_currency":"USD","locale":"en-US","order_amount":100}',
    status: 200,
    check: (j) => {
      expect(j.session_id).toMatch(UUID);
      expect(j.client_token).toEqual(expect.any(String));
    },
  },
];

describe("every default probe path is answered like Klarna answers it", () => {
  it("the profile's probes cover all 13 SLO categories", () => {
    expect(new Set(DEFAULT_PROBES.map((p) => p.category))).toEqual(new Set(SIM_CATEGORIES));
  });

  for (const probe of DEFAULT_PROBES) {
    it(`${probe.probe}: ${probe.method} ${probe.path.split("?")[0]} answers ${probe.status} with Klarna's headers`, async () => {
      await withSimulator("{}", async (sim, client) => {
        const answer = await ask(client, sim.url + probe.path, { method: probe.method, body: probe.body });
        expect(answer.status).toBe(probe.status);
        expect(answer.headers["content-type"]).toBe("application/json");
        expect(answer.headers["klarna-correlation-id"]).toMatch(UUID);
        expect(Number(answer.headers["x-ratelimit-limit"])).toBeGreaterThan(0);
        expect(Number(answer.headers["x-ratelimit-remaining"])).toBeLessThan(
          Number(answer.headers["x-ratelimit-limit"]),
        );
        expect(Number(answer.headers["x-ratelimit-reset"])).toBeGreaterThanOrEqual(1);
        expect(serverTimingMs(answer)).toBeGreaterThanOrEqual(0);
        probe.check(answer.json as Record<string, unknown>);
        expect(sim.requestCounts()).toEqual({ [probe.category]: 1 });
      });
    });
  }

  it("a served 4xx carries the v1 error body whose correlation_id is the header's", async () => {
    await withSimulator("{}", async (sim, client) => {
      const answer = await ask(client, `${sim.url}/ordermanagement/v1/orders/abc/captures`, {
        method: "POST",
        body: "{}",
      });
      expect(answer.json).toEqual({
        error_code: "NO_SUCH_ORDER",
        error_messages: ["Order not found: abc"],
        correlation_id: answer.headers["klarna-correlation-id"],
      });
    });
  });

  it("any id is accepted in a path and echoed back", async () => {
    await withSimulator("{}", async (sim, client) => {
      const answer = await ask(client, `${sim.url}/ordermanagement/v1/orders/my-order-42`);
      expect(answer.json).toMatchObject({ order_id: "my-order-42" });
    });
  });

  it("an unknown path is 404 NOT_FOUND, counted as unmatched", async () => {
    await withSimulator("{}", async (sim, client) => {
      const answer = await ask(client, `${sim.url}/payments/v9/nothing`);
      expect(answer.status).toBe(404);
      expect(answer.json).toMatchObject({ error_code: "NOT_FOUND" });
      expect(sim.requestCounts()).toEqual({ unmatched: 1 });
    });
  });

  it("requests with or without HTTP Basic credentials are answered the same", async () => {
    await withSimulator("{}", async (sim, client) => {
      const path = `${sim.url}/customer-token/v1/tokens/${ID}`;
      const anonymous = await ask(client, path);
      const authorization = `Basic ${Buffer.from("PK1234_user:s3cret").toString("base64")}`;
      const authenticated = await ask(client, path, { headers: { authorization } });
      expect([anonymous.status, authenticated.status]).toEqual([200, 200]);
      expect(authenticated.json).toEqual(anonymous.json);
    });
  });

  it("a session create with a body that is not a JSON object is 400 BAD_VALUE", async () => {
    await withSimulator("{}", async (sim, client) => {
      const answer = await ask(client, `${sim.url}/payments/v1/sessions`, {
        method: "POST",
        body: "not json",
      });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error_code: "BAD_VALUE" });
    });
  });
});
