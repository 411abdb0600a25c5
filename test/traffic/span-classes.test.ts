import { describe, expect, it } from "vitest";
import { trafficRoutesOf } from "../../src/config/traffic-wire.js";
import type { Target } from "../../src/model/config.js";
import type { OtlpSpan } from "../../src/traffic/otlp-decode.js";
import { SpanClassifier } from "../../src/traffic/spans.js";

const target: Target = {
  id: "klarna",
  baseUrl: "http://api.klarna.example:8080",
  environment: "production",
  auth: { type: "none" },
  headers: {},
  maxRequestsPerSecond: null,
  keepAlive: true,
  tlsVerify: true,
};
const routes = trafficRoutesOf([
  { method: "POST", path: "/payments/v1/sessions", target: "klarna", category: "payment_request" },
]);
const classifier = new SpanClassifier(routes, new Map([["klarna", target]]), 3_000);

function span(attributes: Record<string, string | number>, durationMs = 42): OtlpSpan {
  return {
    spanId: "00000000000000a1",
    kind: 3,
    startMs: Date.UTC(2026, 9, 1, 10),
    durationMs,
    attributes: {
      "http.request.method": "POST",
      "url.full": "http://api.klarna.example:8080/payments/v1/sessions",
      ...attributes,
    },
  };
}

function failure(errorType: string, durationMs = 42): [string | null, readonly string[]] | string {
  const outcome = classifier.classify(span({ "error.type": errorType }, durationMs));
  return outcome.kind === "result" ? [outcome.result.error, outcome.result.flags ?? []] : outcome.kind;
}

describe("error.type of other runtimes (contract section 19)", () => {
  it.each([
    "java.net.SocketTimeoutException",
    "java.net.http.HttpTimeoutException",
    "context deadline exceeded",
    "ESOCKETTIMEDOUT",
    "ETIMEDOUT",
    "TimeoutError",
    "UND_ERR_HEADERS_TIMEOUT",
    "requests.exceptions.ReadTimeout",
    "System.TimeoutException",
    "timeout",
  ])("counts %s as a timeout against the provider", (errorType) => {
    expect(failure(errorType)).toEqual(["timeout", []]);
  });

  it("counts Go's context canceled as the merchant's own cancellation", () => {
    expect(failure("context canceled")).toEqual(["aborted", ["client_side"]]);
  });

  it.each([
    "AbortError",
    "System.Threading.Tasks.TaskCanceledException",
    "DOMException [AbortError]",
    "aborterror",
    "AbortError: The operation was aborted",
  ])(
    "counts %s lasting at least client_timeout_ms as a provider timeout, shorter as the merchant's",
    (errorType) => {
      expect(failure(errorType, 3_000)).toEqual(["timeout", []]);
      expect(failure(errorType, 2_999)).toEqual(["aborted", ["client_side"]]);
    },
  );

  it("keeps other errors as before", () => {
    expect(failure("ECONNREFUSED")).toEqual(["connect", []]);
    expect(failure("ERR_INVALID_URL")).toEqual(["protocol", ["client_side"]]);
    expect(failure("SomethingElse")).toEqual(["protocol", []]);
  });
});

describe("matching url.full to a target", () => {
  it("requires the base_url's scheme: https:// on the same host:port is another service", () => {
    const ok = classifier.classify(span({ "http.response.status_code": 200 }));
    expect(ok.kind).toBe("result");
    const other = classifier.classify(
      span({
        "http.response.status_code": 200,
        "url.full": "https://api.klarna.example:8080/payments/v1/sessions",
      }),
    );
    expect(other.kind).toBe("ignored");
  });

  it("without url.full, takes url.scheme: an https span to the http target's host:port is another service", () => {
    const parts = (scheme: string) => ({
      "http.response.status_code": 200,
      "url.full": "",
      "server.address": "api.klarna.example",
      "server.port": 8080,
      "url.path": "/payments/v1/sessions",
      "url.scheme": scheme,
    });
    expect(classifier.classify(span(parts("http"))).kind).toBe("result");
    expect(classifier.classify(span(parts("https"))).kind).toBe("ignored");
  });
});
