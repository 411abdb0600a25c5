/**
 * What the simulator answers: one row per Klarna operation, tagged with its SLO category the way
 * Klarna's API reference tags routes. Any id is accepted in paths.
 */
import * as fixtures from "./fixtures.js";

/** The 13 SLO categories of Klarna's service level, as ids of the shipped profile. */
export const SIM_CATEGORIES = [
  "payment_request",
  "payment_confirmation",
  "customer_token_charge",
  "read_only_identity",
  "payment_transaction_general",
  "read_only_payment_transaction",
  "settlements",
  "disputes",
  "identity",
  "account_onboarding",
  "account_operations",
  "messaging_placements",
  "personalized_message_placements",
] as const;
export type SimCategory = (typeof SIM_CATEGORIES)[number];

/** Requests that match no route are counted under this name. */
export const UNMATCHED = "unmatched";

export interface RouteRequest {
  /** Path segments captured by the route's pattern (ids). */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly body: string;
  readonly now: number;
}

/** A route's answer: a JSON body, or one of Klarna's errors (its body is built by the server). */
export type RouteAnswer =
  | { readonly kind: "json"; readonly status: number; readonly body: unknown }
  | { readonly kind: "error"; readonly status: number; readonly errorCode: string; readonly message: string };

export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly category: SimCategory;
  answer(request: RouteRequest): RouteAnswer;
}

const ID = "([^/]+)";
const ok = (body: unknown): RouteAnswer => ({ kind: "json", status: 200, body });
const limitOf = (query: URLSearchParams): number => {
  const limit = Number(query.get("limit") ?? "20");
  return Number.isInteger(limit) && limit > 0 ? limit : 20;
};
const amountOf = (query: URLSearchParams): number => Number(query.get("purchase_amount") ?? "10000") || 10000;

export const ROUTES: readonly Route[] = [
  {
    method: "POST",
    pattern: /^\/payments\/v1\/sessions$/,
    category: "payment_request",
    answer: ({ body }) =>
      isJsonObject(body)
        ? ok(fixtures.createdPaymentSession(crypto.randomUUID()))
        : { kind: "error", status: 400, errorCode: "BAD_VALUE", message: "Bad value: request body" },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/payments/v1/sessions/${ID}$`),
    category: "payment_request",
    answer: ({ params, now }) => ok(fixtures.paymentSession(params[0]!, now)),
  },
  {
    // The probe uses a token that cannot exist, so nothing is ever created: a served 4xx.
    method: "POST",
    pattern: new RegExp(`^/payments/v1/authorizations/${ID}/order$`),
    category: "payment_confirmation",
    answer: () => ({
      kind: "error",
      status: 404,
      errorCode: "INVALID_AUTH_TOKEN",
      message: "Invalid authorization token",
    }),
  },
  {
    method: "GET",
    pattern: new RegExp(`^/customer-token/v1/tokens/${ID}$`),
    category: "customer_token_charge",
    answer: ({ params }) => ok(fixtures.customerToken(params[0]!)),
  },
  {
    method: "GET",
    pattern: /^\/v2\/identity\/customers\/lookup$/,
    category: "read_only_identity",
    answer: ({ query }) => ok(fixtures.customerLookup(query.get("email"))),
  },
  {
    method: "POST",
    pattern: new RegExp(`^/ordermanagement/v1/orders/${ID}/captures$`),
    category: "payment_transaction_general",
    answer: ({ params }) => ({
      kind: "error",
      status: 404,
      errorCode: "NO_SUCH_ORDER",
      message: `Order not found: ${params[0]}`,
    }),
  },
  {
    method: "GET",
    pattern: new RegExp(`^/ordermanagement/v1/orders/${ID}$`),
    category: "read_only_payment_transaction",
    answer: ({ params, now }) => ok(fixtures.order(params[0]!, now)),
  },
  {
    method: "GET",
    pattern: /^\/settlements\/v1\/payouts\/summary$/,
    category: "settlements",
    answer: ({ query }) => ok(fixtures.payoutSummary(query.get("start_date"), query.get("end_date"))),
  },
  {
    method: "GET",
    pattern: /^\/v2\/disputes$/,
    category: "disputes",
    answer: ({ query, now }) => ok(fixtures.disputes(limitOf(query), now)),
  },
  {
    method: "GET",
    pattern: new RegExp(`^/v2/identity/tokens/${ID}$`),
    category: "identity",
    answer: ({ params, now }) => ok(fixtures.identityToken(params[0]!, now)),
  },
  {
    method: "GET",
    pattern: /^\/v2\/distribution\/onboard\/requests$/,
    category: "account_onboarding",
    answer: ({ query, now }) => ok(fixtures.onboardingRequests(limitOf(query), now)),
  },
  {
    method: "GET",
    pattern: /^\/v2\/accounts$/,
    category: "account_operations",
    answer: ({ query, now }) => ok(fixtures.accounts(limitOf(query), now)),
  },
  {
    method: "GET",
    pattern: /^\/messaging\/v3$/,
    category: "messaging_placements",
    answer: ({ query }) => ok(fixtures.messagingPlacement(amountOf(query), false)),
  },
  {
    method: "GET",
    pattern: /^\/messaging\/v3\/personalized$/,
    category: "personalized_message_placements",
    answer: ({ query }) => ok(fixtures.messagingPlacement(amountOf(query), true)),
  },
];

export interface RouteMatch {
  readonly route: Route;
  readonly params: readonly string[];
}

export function matchRoute(method: string, pathname: string): RouteMatch | null {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(pathname);
    if (match) return { route, params: match.slice(1).map(decodeSegment) };
  }
  return null;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
