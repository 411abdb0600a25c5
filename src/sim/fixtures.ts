/**
 * Response bodies modelled on Klarna's real ones (field names and shapes from the public API
 * reference), with any id from the request path echoed back. Amounts are in minor units.
 */
import { DAY_MS, isoUtc } from "../model/time.js";

const ORDER_LINES = [
  {
    type: "physical",
    reference: "19-402-USA",
    name: "Red T-Shirt",
    quantity: 1,
    quantity_unit: "pcs",
    unit_price: 10000,
    tax_rate: 0,
    total_amount: 10000,
    total_discount_amount: 0,
    total_tax_amount: 0,
  },
];

const ADDRESS = {
  given_name: "Test",
  family_name: "Person-us",
  email: "customer@email.us",
  street_address: "509 Amsterdam Ave",
  postal_code: "10024-3941",
  city: "New York",
  region: "NY",
  phone: "+13106683312",
  country: "US",
};

function paymentMethodCategories(): unknown[] {
  return [
    ["pay_later", "Pay later."],
    ["pay_over_time", "Financing."],
    ["pay_now", "Pay now."],
  ].map(([identifier, name]) => ({
    identifier,
    name,
    asset_urls: {
      descriptive: "https://x.klarnacdn.net/payment-method/assets/badges/generic/klarna.svg",
      standard: "https://x.klarnacdn.net/payment-method/assets/badges/generic/klarna.svg",
    },
  }));
}

/** A token shaped like Klarna's client_token (a JWT); the simulator never checks it. */
function clientToken(sessionId: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", kid: "82305ebb-a6f2-4e3b-b1a4-0a9fce1f5c1f" })}.${part({ session_id: sessionId })}.c2lt`;
}

export function paymentSession(sessionId: string, now: number): unknown {
  return {
    acquiring_channel: "ECOMMERCE",
    client_token: clientToken(sessionId),
    expires_at: isoUtc(now + 2 * DAY_MS),
    intent: "buy",
    locale: "en-US",
    merchant_reference1: "45aa52f387871e3a210645d4",
    options: {},
    order_amount: 10000,
    order_lines: ORDER_LINES,
    order_tax_amount: 0,
    payment_method_categories: paymentMethodCategories(),
    purchase_country: "US",
    purchase_currency: "USD",
    status: "incomplete",
  };
}

export function createdPaymentSession(sessionId: string): unknown {
  return {
    session_id: sessionId,
    client_token: clientToken(sessionId),
    payment_method_categories: paymentMethodCategories(),
  };
}

export function order(orderId: string, now: number): unknown {
  return {
    order_id: orderId,
    status: "AUTHORIZED",
    fraud_status: "ACCEPTED",
    order_amount: 10000,
    original_order_amount: 10000,
    captured_amount: 0,
    refunded_amount: 0,
    remaining_authorized_amount: 10000,
    purchase_currency: "USD",
    locale: "en-US",
    purchase_country: "US",
    klarna_reference: "K4MADNY-1",
    merchant_reference1: "75001",
    order_lines: ORDER_LINES,
    billing_address: ADDRESS,
    shipping_address: ADDRESS,
    created_at: isoUtc(now - DAY_MS),
    expires_at: isoUtc(now + 27 * DAY_MS),
    captures: [],
    refunds: [],
    initial_payment_method: { type: "INVOICE", description: "Pay later in 30 days" },
  };
}

export function customerToken(tokenId: string): unknown {
  return {
    token_id: tokenId,
    status: "ACTIVE",
    payment_method_type: "INVOICE",
    purchase_currency: "USD",
    purchase_country: "US",
    invoice: { type: "invoice" },
  };
}

export function customerLookup(email: string | null): unknown {
  return {
    customer_exists: email !== null && email.length > 0,
    account_linking_available: true,
  };
}

export function identityToken(tokenId: string, now: number): unknown {
  return {
    token_id: tokenId,
    status: "ACTIVE",
    scopes: ["payment:customer_present", "profile:name", "profile:email"],
    created_at: isoUtc(now - 30 * DAY_MS),
    expires_at: isoUtc(now + 335 * DAY_MS),
  };
}

export function payoutSummary(startDate: string | null, endDate: string | null): unknown {
  return [
    {
      summary_payout_date_start: startDate ?? "2026-01-01T00:00:00Z",
      summary_payout_date_end: endDate ?? "2026-01-02T00:00:00Z",
      summary_settlement_currency: "USD",
      summary_total_sale_amount: 500000,
      summary_total_return_amount: 20000,
      summary_total_fee_amount: 15000,
      summary_total_fee_correction_amount: 0,
      summary_total_commission_amount: 0,
      summary_total_holdback_amount: 0,
      summary_total_release_amount: 0,
      summary_total_reversal_amount: 0,
      summary_total_repay_amount: 0,
      summary_total_tax_amount: 0,
      summary_total_settlement_amount: 465000,
    },
  ];
}

function page(items: unknown[], key: string, limit: number): unknown {
  return { [key]: items.slice(0, limit), pagination: { count: Math.min(items.length, limit), next: null } };
}

export function disputes(limit: number, now: number): unknown {
  const dispute = {
    dispute_id: "dsp_0a1b2c3d",
    order_id: "f3392f8b-6116-4073-ab96-e330819e2c07",
    reason: "GOODS_NOT_RECEIVED",
    status: "DISPUTE_OPENED",
    disputed_amount: { amount: 10000, currency: "USD" },
    opened_at: isoUtc(now - 2 * DAY_MS),
    deadline_at: isoUtc(now + 12 * DAY_MS),
  };
  return page([dispute], "disputes", limit);
}

export function onboardingRequests(limit: number, now: number): unknown {
  const request = {
    onboarding_request_id: "obr_5e6f7a8b",
    status: "COMPLETED",
    partner_account_reference: "merchant-001",
    created_at: isoUtc(now - 7 * DAY_MS),
    completed_at: isoUtc(now - 6 * DAY_MS),
  };
  return page([request], "onboarding_requests", limit);
}

export function accounts(limit: number, now: number): unknown {
  const account = {
    account_id: "krn:partner:global:account:live:LWT2XJSE",
    account_reference: "merchant-001",
    status: "ACTIVE",
    business_name: "Example Store Inc.",
    country: "US",
    created_at: isoUtc(now - 400 * DAY_MS),
  };
  return page([account], "accounts", limit);
}

export function messagingPlacement(purchaseAmount: number, personalized: boolean): unknown {
  const instalment = (purchaseAmount / 4 / 100).toFixed(2);
  const main = personalized
    ? `Welcome back! Pay in 4 interest-free payments of $${instalment}.`
    : `4 interest-free payments of $${instalment}.`;
  return {
    content: {
      nodes: [
        { name: "KLARNA_BADGE", type: "IMAGE", alt: "Klarna", url: "https://x.klarnacdn.net/badge.svg" },
        { name: "TEXT_MAIN", type: "TEXT", value: main },
        {
          name: "ACTION_LEARN_MORE",
          type: "ACTION",
          label: "Learn more",
          url: "https://js.klarna.com/web-sdk/v1/learn-more",
        },
      ],
    },
  };
}
