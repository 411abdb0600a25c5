import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import type { HttpProbeSpec } from "../../src/model/config.js";
import { DIAGNOSTIC_CATEGORY } from "../../src/model/result.js";

const PROFILE = join(import.meta.dirname, "../../slo.yaml");

/** The Klarna profile as decided (issue 2): category -> class, p99 objective, default probe. */
const CATEGORIES = [
  ["payment_request", "Payment Request", "transaction_critical", 150, "payment-request-read"],
  [
    "payment_confirmation",
    "Payment Confirmation",
    "transaction_critical",
    500,
    "payment-confirmation-invalid-token",
  ],
  ["customer_token_charge", "Customer Token Charge", "transaction_critical", 5000, "customer-token-read"],
  ["read_only_identity", "Read-Only Identity", "transaction_critical", 500, "read-only-identity-lookup"],
  [
    "payment_transaction_general",
    "Payment Transaction General",
    "transaction_non_critical",
    1500,
    "payment-transaction-capture-invalid-order",
  ],
  [
    "read_only_payment_transaction",
    "Read-only Payment Transaction",
    "transaction_non_critical",
    800,
    "order-read",
  ],
  ["settlements", "Settlements", "transaction_non_critical", 6000, "settlements-payout-summary"],
  ["disputes", "Disputes", "transaction_non_critical", 4000, "disputes-list"],
  ["identity", "Identity", "transaction_non_critical", 1000, "identity-token-read"],
  ["account_onboarding", "Account Onboarding", "additional", 2000, "account-onboarding-status"],
  ["account_operations", "Account Operations", "additional", 1000, "account-read"],
  ["messaging_placements", "Messaging Placements", "additional", 500, "messaging-placements"],
  [
    "personalized_message_placements",
    "Personalized Message Placements",
    "additional",
    500,
    "personalized-messaging",
  ],
] as const;

// No credentials on this machine: the profile must still load (empty usernames are warnings).
const loaded = loadConfig(PROFILE, { env: {} });

describe("the shipped Klarna profile", () => {
  it("declares Klarna's 3 service classes at 99% availability", async () => {
    const { config } = await loaded;
    expect([...config.serviceClasses.values()].map((c) => [c.id, c.title, c.availabilityTarget])).toEqual([
      ["transaction_critical", "Transactions Critical Services", 0.99],
      ["transaction_non_critical", "Transactions Non-critical Services", 0.99],
      ["additional", "Additional Services", 0.99],
    ]);
  });

  it.each(CATEGORIES)(
    "%s (%s) is in %s with p99 %i ms, measured by %s",
    async (id, title, cls, p99, probeId) => {
      const { config } = await loaded;
      expect(config.categories.get(id)).toEqual({ id, title, serviceClass: cls, latencyP99Ms: p99 });
      const probe = config.probes.find((p) => p.id === probeId);
      expect(probe).toMatchObject({
        category: id,
        target: "klarna",
        schedule: { kind: "every", intervalMs: 30_000 },
        timeoutMs: 10_000,
        writes: false,
      });
    },
  );

  it("has exactly the 13 categories, each measured by at least one probe", async () => {
    const { config } = await loaded;
    expect(config.categories.size).toBe(13);
    for (const id of config.categories.keys()) {
      expect(
        config.probes.some((p) => p.category === id),
        id,
      ).toBe(true);
    }
  });

  it("keeps its only writing probe on a playground target", async () => {
    const { config } = await loaded;
    const writers = config.probes.filter((p): p is HttpProbeSpec => p.writes && p.kind === "http");
    expect(writers.map((p) => [p.id, p.category, p.target, p.method, p.schedule])).toEqual([
      [
        "payment-session-create",
        "payment_request",
        "klarna_playground",
        "POST",
        { kind: "every", intervalMs: 300_000 },
      ],
    ]);
    expect(config.targets.get("klarna_playground")?.environment).toBe("playground");
    expect(JSON.parse(writers[0]!.body!)).toMatchObject({ intent: "buy", purchase_currency: "SEK" });
  });

  it("ships a payment-session flow on the playground and tls/dns/tcp diagnostics of the production API", async () => {
    const { config } = await loaded;
    const flow = config.probes.find((p) => p.kind === "flow");
    expect(flow && [flow.id, flow.target, flow.writes, flow.steps.map((s) => s.id)]).toEqual([
      "payment-session-flow",
      "klarna_playground",
      true,
      ["create", "read"],
    ]);
    const diagnostics = config.probes.filter((p) => p.kind === "tls" || p.kind === "dns" || p.kind === "tcp");
    expect(diagnostics.map((p) => [p.id, p.kind, p.category, p.target])).toEqual([
      ["api-cert", "tls", DIAGNOSTIC_CATEGORY, null],
      ["api-dns", "dns", DIAGNOSTIC_CATEGORY, null],
      ["api-tcp", "tcp", DIAGNOSTIC_CATEGORY, null],
    ]);
  });

  it("targets Klarna's production and playground regions with basic auth", async () => {
    const { config } = await loaded;
    expect([...config.targets.values()].map((t) => [t.id, t.baseUrl, t.environment, t.auth.type])).toEqual([
      ["klarna", "https://api.playground.klarna.com", "playground", "basic"],
      ["klarna_eu", "https://api.klarna.com", "production", "basic"],
      ["klarna_na", "https://api-na.klarna.com", "production", "basic"],
      ["klarna_oc", "https://api-oc.klarna.com", "production", "basic"],
      ["klarna_playground", "https://api.playground.klarna.com", "playground", "basic"],
      ["klarna_na_playground", "https://api-na.playground.klarna.com", "playground", "basic"],
      ["klarna_oc_playground", "https://api-oc.playground.klarna.com", "playground", "basic"],
    ]);
  });

  it("points the default target where KLARNA_BASE_URL and KLARNA_ENVIRONMENT say", async () => {
    const { config } = await loadConfig(PROFILE, {
      env: { KLARNA_BASE_URL: "https://api-na.klarna.com/", KLARNA_ENVIRONMENT: "production" },
    });
    expect(config.targets.get("klarna")).toMatchObject({
      baseUrl: "https://api-na.klarna.com",
      environment: "production",
    });
  });

  it("uses Klarna's maintenance policy with no windows or exclusions declared", async () => {
    const { config } = await loaded;
    expect(config.maintenance).toEqual({
      policy: { minNoticeDays: 7, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
      windows: [],
    });
    expect(config.exclusions).toEqual([]);
    expect(config.agent).toMatchObject({ region: "eu", listen: { host: "0.0.0.0", port: 9464 } });
    expect(config.agent.dataDir).toBe(join(import.meta.dirname, "../../data"));
  });

  it("warns only about the missing credentials of targets that probes use, once per target", async () => {
    const { warnings } = await loaded;
    expect(warnings.map((w) => `${w.path}: ${w.message}`)).toEqual(
      ["klarna", "klarna_playground"].map(
        (id) => `targets.${id}.auth.username: empty username: requests to this target will not authenticate`,
      ),
    );
  });
});
