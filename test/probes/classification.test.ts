import { errors } from "undici";
import { describe, expect, it } from "vitest";
import type { FailureReason } from "../../src/model/result.js";
import { failureReasonOf, vendorErrorOf } from "../../src/probes/index.js";

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe("failure reason table", () => {
  const cases: [string, unknown, boolean, FailureReason][] = [
    ["undici connect timeout is a timeout", new errors.ConnectTimeoutError(), false, "timeout"],
    ["undici headers timeout is a timeout", new errors.HeadersTimeoutError(), true, "timeout"],
    ["undici body timeout is a timeout", new errors.BodyTimeoutError(), true, "timeout"],
    ["a refused connection is connect", coded("ECONNREFUSED"), false, "connect"],
    ["an unreachable host is connect", coded("EHOSTUNREACH"), false, "connect"],
    ["an unknown host is dns", coded("ENOTFOUND"), false, "dns"],
    ["a temporary resolver failure is dns", coded("EAI_AGAIN"), false, "dns"],
    ["a self-signed certificate is tls", coded("DEPTH_ZERO_SELF_SIGNED_CERT"), false, "tls"],
    ["an expired certificate is tls", coded("CERT_HAS_EXPIRED"), false, "tls"],
    ["a host name mismatch is tls", coded("ERR_TLS_CERT_ALTNAME_INVALID"), false, "tls"],
    ["an SSL protocol error is tls", coded("ERR_SSL_WRONG_VERSION_NUMBER"), false, "tls"],
    ["a reset is reset", coded("ECONNRESET"), true, "reset"],
    ["the other side closing is reset", new errors.SocketError("other side closed"), true, "reset"],
    ["a parser error code is protocol", coded("HPE_INVALID_CONSTANT"), true, "protocol"],
    ["a parser error without code is protocol", new errors.HTTPParserError("bad"), true, "protocol"],
    [
      "a content-length mismatch is protocol",
      new errors.ResponseContentLengthMismatchError(),
      true,
      "protocol",
    ],
    ["an aborted request is aborted", new errors.RequestAbortedError(), true, "aborted"],
    ["a DOM AbortError is aborted", new DOMException("stop", "AbortError"), false, "aborted"],
    ["the cause chain is searched", new Error("fetch failed", { cause: coded("ECONNRESET") }), true, "reset"],
    [
      "happy-eyeballs AggregateError members are searched",
      new AggregateError([coded("ECONNREFUSED")]),
      false,
      "connect",
    ],
    ["an unknown error before any connection is connect", new Error("weird"), false, "connect"],
    ["an unknown error on a connection is protocol", new Error("weird"), true, "protocol"],
    ["a non-error value does not crash", "just a string", false, "connect"],
  ];
  for (const [rule, error, connected, reason] of cases) {
    it(rule, () => expect(failureReasonOf(error, connected)).toBe(reason));
  }
});

describe("vendor error parsing", () => {
  const body = (text: string) => new TextEncoder().encode(text);
  const cases: [
    string,
    string,
    Record<string, string>,
    { errorCode: string | null; correlationId: string | null; errorBody: boolean },
  ][] = [
    [
      "v1 format",
      '{"error_code":"BAD_VALUE","error_messages":["Bad value: locale"],"correlation_id":"c-1"}',
      {},
      { errorCode: "BAD_VALUE", correlationId: "c-1", errorBody: true },
    ],
    [
      "newer format, code at the top",
      '{"error_id":"e-1","error_type":"INPUT_ERROR","error_code":"NOT_FOUND","errors":[]}',
      {},
      { errorCode: "NOT_FOUND", correlationId: "e-1", errorBody: true },
    ],
    [
      "newer format, code only inside errors[]",
      '{"error_id":"e-2","error_type":"INPUT_ERROR","errors":[{"code":"BAD_VALUE:locale"}]}',
      {},
      { errorCode: "BAD_VALUE:locale", correlationId: "e-2", errorBody: true },
    ],
    [
      "the header correlation id wins over error_id, the body's correlation_id over the header",
      '{"error_id":"e-3","error_code":"CONFLICT"}',
      { "klarna-correlation-id": "h-3" },
      { errorCode: "CONFLICT", correlationId: "h-3", errorBody: true },
    ],
    [
      "HTML is no error body",
      "<html><body>Access denied</body></html>",
      {},
      { errorCode: null, correlationId: null, errorBody: false },
    ],
    [
      "an empty body is no error body",
      "",
      { "klarna-correlation-id": "h-4" },
      { errorCode: null, correlationId: "h-4", errorBody: false },
    ],
    [
      "a JSON array is no error body",
      '["BAD_VALUE"]',
      {},
      { errorCode: null, correlationId: null, errorBody: false },
    ],
    [
      "a non-string code is ignored",
      '{"error_code":42}',
      {},
      { errorCode: null, correlationId: null, errorBody: false },
    ],
    [
      "a truncated body keeps its leading fields",
      '{"error_code":"REFUND_NOT_ALLOWED","correlation_id":"c-5","error_messages":["The refund amo',
      {},
      { errorCode: "REFUND_NOT_ALLOWED", correlationId: "c-5", errorBody: true },
    ],
    [
      "an absurdly long code is not a code",
      `{"error_code":"${"A".repeat(500)}"}`,
      {},
      { errorCode: null, correlationId: null, errorBody: false },
    ],
    [
      "a lone surrogate or a control character from the vendor is replaced, so the store can keep the result",
      '{"error_code":"BAD\\ud800","correlation_id":"c\\u0007-1"}',
      {},
      { errorCode: "BAD\ufffd", correlationId: "c\ufffd-1", errorBody: true },
    ],
    [
      "invalid UTF-8 does not crash",
      "\u00ff\u00fe{",
      {},
      { errorCode: null, correlationId: null, errorBody: false },
    ],
  ];
  for (const [rule, text, headers, expected] of cases) {
    it(rule, () => expect(vendorErrorOf(body(text), headers)).toEqual(expected));
  }
});
