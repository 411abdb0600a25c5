import { describe, expect, it } from "vitest";
import { type KnownIds, parseResultLine } from "../../src/record/index.js";

const KNOWN: KnownIds = {
  probes: new Map([["payment-request-read", "payment_request"]]),
  categories: new Set(["payment_request", "settlements"]),
};

const GOOD = {
  ts: "2026-10-01T00:00:30.000Z",
  probe: "payment-request-read",
  category: "payment_request",
  status: 200,
  duration_ms: 123.456,
  error: null,
  error_code: null,
  correlation_id: null,
};

function line(overrides: Record<string, unknown>, omit: string[] = []): string {
  const fields: Record<string, unknown> = { ...GOOD, ...overrides };
  for (const key of omit) delete fields[key];
  return JSON.stringify(fields);
}

describe("an import line (contract section 3)", () => {
  it("the contract's example is accepted as the result it describes", () => {
    expect(parseResultLine(line({}), KNOWN)).toEqual({
      result: {
        ts: Date.UTC(2026, 9, 1, 0, 0, 30),
        probe: "payment-request-read",
        category: "payment_request",
        status: 200,
        durationMs: 123.456,
        error: null,
        errorCode: null,
        correlationId: null,
        phases: null,
        serverMs: null,
        flags: [],
        bodyError: null,
        detail: null,
      },
    });
  });

  it("flags, body_error and detail are read as the probe's classification detail", () => {
    const text = line({
      status: 403,
      flags: ["edge_block", "body_capped"],
      body_error: "reset",
      detail: "a b",
    });
    expect(parseResultLine(text, KNOWN)).toMatchObject({
      result: { status: 403, flags: ["edge_block", "body_capped"], bodyError: "reset", detail: "a b" },
    });
  });

  const accepted: { rule: string; text: string }[] = [
    { rule: "error_code and correlation_id are optional", text: line({}, ["error_code", "correlation_id"]) },
    {
      rule: "a request without response has status null and a reason",
      text: line({ status: null, error: "timeout", duration_ms: 10000 }),
    },
    { rule: "a 5xx is a response like any other", text: line({ status: 503, error_code: "INTERNAL_ERROR" }) },
    {
      rule: "phases and server_ms as the store exports them",
      text: line({
        phases: {
          dns_ms: 1,
          connect_ms: null,
          tls_ms: null,
          request_sent_ms: 2,
          ttfb_ms: 100,
          body_end_ms: 101,
        },
        server_ms: 90,
      }),
    },
    { rule: "duration 0 is allowed", text: line({ duration_ms: 0 }) },
    { rule: "an empty flags array is no flags", text: line({ flags: [] }) },
    { rule: "body_error and detail may be null", text: line({ body_error: null, detail: null }) },
  ];
  for (const c of accepted) {
    it(`accepts: ${c.rule}`, () => {
      expect(parseResultLine(c.text, KNOWN)).toHaveProperty("result");
    });
  }

  const rejected: { rule: string; text: string; message: RegExp; known?: KnownIds | null }[] = [
    { rule: "not JSON", text: "{ts:", message: /^not valid JSON/ },
    { rule: "an array is not a result", text: "[1,2]", message: /must be a JSON object/ },
    {
      rule: "ts without milliseconds",
      text: line({ ts: "2026-10-01T00:00:30Z" }),
      message: /^ts must be ISO-8601 UTC with milliseconds/,
    },
    {
      rule: "ts with an offset instead of Z",
      text: line({ ts: "2026-10-01T02:00:30.000+02:00" }),
      message: /^ts must be ISO-8601 UTC/,
    },
    {
      rule: "a day that does not exist",
      text: line({ ts: "2026-02-30T00:00:00.000Z" }),
      message: /^ts must be/,
    },
    { rule: "ts as a number", text: line({ ts: 1790812830000 }), message: /^ts must be/ },
    {
      rule: "status below 100",
      text: line({ status: 99 }),
      message: /^status must be an integer 100-599 or null, got 99/,
    },
    { rule: "status above 599", text: line({ status: 600 }), message: /^status must be an integer 100-599/ },
    { rule: "a fractional status", text: line({ status: 200.5 }), message: /^status must be an integer/ },
    {
      rule: "status as text",
      text: line({ status: "200" }),
      message: /^status must be an integer 100-599 or null, got "200"/,
    },
    {
      rule: "an unknown error reason",
      text: line({ status: null, error: "boom" }),
      message: /^error must be null or one of timeout, connect/,
    },
    {
      rule: "error set although status is set",
      text: line({ error: "timeout" }),
      message: /^error must be null when status is set/,
    },
    {
      rule: "status null without a reason",
      text: line({ status: null }),
      message: /^error must say why when status is null/,
    },
    {
      rule: "a negative duration",
      text: line({ duration_ms: -1 }),
      message: /^duration_ms must be a number >= 0/,
    },
    {
      rule: "duration as text",
      text: line({ duration_ms: "12" }),
      message: /^duration_ms must be a number >= 0, got "12"/,
    },
    { rule: "a missing required field", text: line({}, ["status"]), message: /missing field "status"/ },
    {
      rule: "an unknown field (a typo never passes silently)",
      text: line({ duration: 5 }),
      message: /unknown field "duration"/,
    },
    {
      rule: "flags that are not an array",
      text: line({ flags: "edge_block" }),
      message:
        /^flags must be an array of edge_block, redirect_limit, body_capped, agent_error, client_side, got "edge_block"/,
    },
    { rule: "flags null (no flags is [])", text: line({ flags: null }), message: /^flags must be an array/ },
    { rule: "a flag that is not text", text: line({ flags: [1] }), message: /^flags must be an array/ },
    {
      rule: "an unknown flag",
      text: line({ flags: ["waf"] }),
      message:
        /^flags may hold only edge_block, redirect_limit, body_capped, agent_error, client_side, got "waf"/,
    },
    {
      rule: "a repeated flag",
      text: line({ flags: ["edge_block", "edge_block"] }),
      message: /^flags must not repeat a flag/,
    },
    {
      rule: "an unknown body_error",
      text: line({ body_error: "eof" }),
      message: /^body_error must be null or one of timeout, connect/,
    },
    {
      rule: "body_error as a number",
      text: line({ body_error: 1 }),
      message: /^body_error must be null or a failure/,
    },
    {
      rule: "body_error without a status (no headers, no body)",
      text: line({ status: null, error: "reset", body_error: "reset" }),
      message: /^body_error needs a status/,
    },
    { rule: "detail as a number", text: line({ detail: 5 }), message: /^detail must be a string or null/ },
    {
      rule: "an unknown probe",
      text: line({ probe: "nope" }),
      message: /^unknown probe "nope" \(pass --allow-unknown/,
    },
    { rule: "an unknown category", text: line({ category: "nope" }), message: /category "nope"/ },
    {
      rule: "a known probe under another category",
      text: line({ category: "settlements" }),
      message: /^probe "payment-request-read" belongs to category "payment_request", not "settlements"/,
    },
  ];
  for (const c of rejected) {
    it(`rejects: ${c.rule}`, () => {
      const parsed = parseResultLine(c.text, c.known === undefined ? KNOWN : c.known);
      expect(parsed).toHaveProperty("problem");
      if ("problem" in parsed) expect(parsed.problem).toMatch(c.message);
    });
  }

  it("with --allow-unknown (no known ids), unknown probes and categories pass", () => {
    expect(parseResultLine(line({ probe: "x", category: "y" }), null)).toHaveProperty("result");
  });
});
