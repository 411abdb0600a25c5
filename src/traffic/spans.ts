import type { Target, TargetId } from "../model/config.js";
import { type FailureReason, MAX_DURATION_MS, type ProbeResult, type ResultFlag } from "../model/result.js";
import type { TrafficRoute } from "../model/traffic.js";
import { type OtlpSpan, SPAN_KIND_CLIENT, type SpanAttributes } from "./otlp-decode.js";

/** Where a target's requests go: host and port from its base_url, and the path prefix it adds. */
interface TargetAddress {
  readonly id: TargetId;
  readonly host: string;
  readonly port: number;
  /** base_url's scheme, e.g. "https:": a url.full of another scheme is another service. */
  readonly protocol: string;
  /** base_url's path without a trailing slash ("" for none). */
  readonly basePath: string;
}

/** What became of one span. */
export type SpanOutcome =
  | { readonly kind: "result"; readonly result: ProbeResult }
  /** Not a merchant request the configuration asks about (not CLIENT, another host, no route). */
  | { readonly kind: "ignored" }
  /** A matching request the span does not describe well enough to count; the reason is for the sender. */
  | { readonly kind: "rejected"; readonly reason: string };

const DEFAULT_PORTS: Readonly<Record<string, number>> = { "http:": 80, "https:": 443 };

/**
 * Turns CLIENT spans into results of `source: "traffic"` (contract section 19). Only the route's
 * template, the status, the failure reason, the duration and the span id are kept: never the real
 * path, a query string, a header or any other attribute.
 */
export class SpanClassifier {
  readonly #targets: readonly TargetAddress[];
  readonly #routes: readonly TrafficRoute[];
  readonly #clientTimeoutMs: number;

  /**
   * clientTimeoutMs: an ambiguous cancellation (AbortError, TaskCanceledException) that lasted at
   * least this long is the merchant's own timeout on a slow provider: it counts as a timeout.
   */
  constructor(
    routes: readonly TrafficRoute[],
    targets: ReadonlyMap<TargetId, Target>,
    clientTimeoutMs: number = DEFAULT_CLIENT_TIMEOUT_MS,
  ) {
    this.#routes = routes;
    this.#clientTimeoutMs = clientTimeoutMs;
    const used = new Set(routes.map((r) => r.target));
    this.#targets = [...targets.values()].filter((t) => used.has(t.id)).map(addressOf);
  }

  classify(span: OtlpSpan): SpanOutcome {
    if (span.kind !== SPAN_KIND_CLIENT) return IGNORED;
    const a = span.attributes;
    const url = urlOf(a);
    const host = (
      text(a["server.address"]) ??
      text(a["net.peer.name"]) ??
      url?.hostname.replace(/^\[|\]$/g, "") ??
      ""
    ).toLowerCase();
    const port = numberOf(a["server.port"]) ?? numberOf(a["net.peer.port"]) ?? portOf(url);
    const path = url?.pathname ?? text(a["url.path"]);
    const method = (text(a["http.request.method"]) ?? text(a["http.method"]))?.toUpperCase();
    if (host === "" || path === undefined || method === undefined) return IGNORED;
    // url.scheme (semantic conventions) when the span has no url.full: https to an http target is another service.
    const scheme = text(a["url.scheme"]);
    const route = this.#routeOf(
      host,
      port,
      url?.protocol ?? (scheme ? `${scheme.toLowerCase()}:` : null),
      method,
      path,
    );
    if (!route) return IGNORED;
    return outcomeOf(span, route, this.#clientTimeoutMs);
  }

  #routeOf(
    host: string,
    port: number | null,
    protocol: string | null,
    method: string,
    path: string,
  ): TrafficRoute | null {
    for (const target of this.#targets) {
      if (target.host !== host || (port !== null && port !== target.port)) continue;
      if (protocol !== null && protocol !== target.protocol) continue;
      const segments = segmentsUnder(path, target.basePath);
      if (segments === null) continue;
      const route = this.#routes.find(
        (r) => r.target === target.id && r.method === method && templateMatches(r.segments, segments),
      );
      if (route) return route;
    }
    return null;
  }
}

const IGNORED: SpanOutcome = { kind: "ignored" };

/** traffic.client_timeout_ms when not configured. */
export const DEFAULT_CLIENT_TIMEOUT_MS = 5_000;

function addressOf(target: Target): TargetAddress {
  const url = new URL(target.baseUrl);
  return {
    id: target.id,
    host: url.hostname.toLowerCase().replace(/^\[|\]$/g, ""),
    port: url.port === "" ? (DEFAULT_PORTS[url.protocol] ?? 0) : Number(url.port),
    protocol: url.protocol,
    basePath: url.pathname.replace(/\/+$/, ""),
  };
}

/** The path's segments below the target's base path, or null when it is not under it. */
function segmentsUnder(path: string, basePath: string): string[] | null {
  if (basePath !== "" && !(path === basePath || path.startsWith(`${basePath}/`))) return null;
  return path.slice(basePath.length).split("/").slice(1);
}

function templateMatches(template: readonly (string | null)[], segments: readonly string[]): boolean {
  if (template.length !== segments.length) return false;
  for (let i = 0; i < template.length; i++) {
    const literal = template[i];
    if (literal === null ? segments[i] === "" : literal !== segments[i]) return false;
  }
  return true;
}

function outcomeOf(span: OtlpSpan, route: TrafficRoute, clientTimeoutMs: number): SpanOutcome {
  const a = span.attributes;
  const status = numberOf(a["http.response.status_code"]) ?? numberOf(a["http.status_code"]);
  if (!/^[0-9a-f]{16}$/.test(span.spanId) || span.spanId === "0000000000000000")
    return { kind: "rejected", reason: "a matching span has no valid span id" };
  if (!(span.startMs > 0) || !(span.durationMs >= 0) || span.durationMs > MAX_DURATION_MS)
    return { kind: "rejected", reason: "a matching span has no valid start and end time" };
  const errorType = text(a["error.type"]);
  let error: FailureReason | null = null;
  let flags: ResultFlag[] = [];
  if (status === null || !(Number.isInteger(status) && status >= 100 && status <= 599)) {
    if (errorType === undefined)
      return {
        kind: "rejected",
        reason: "a matching span has neither http.response.status_code nor error.type",
      };
    const failure = failureOf(errorType, span.durationMs, clientTimeoutMs);
    error = failure.reason;
    if (failure.clientSide) flags = ["client_side"];
  }
  const result: ProbeResult = {
    ts: Math.floor(span.startMs),
    probe: route.probe,
    category: route.category,
    status: error === null ? status : null,
    // Whole microseconds: what a span's nanoseconds honestly say about a network request.
    durationMs: Math.round(span.durationMs * 1000) / 1000,
    error,
    errorCode: null,
    // The span id, so that the merchant can find the request in its own traces and a retried
    // export is stored once; the trace id and everything else about the request is dropped.
    correlationId: span.spanId,
    flags,
    source: "traffic",
  };
  return { kind: "result", result };
}

/**
 * error.type values (Node.js and undici error codes, exception names) that say the merchant's own
 * client failed the request before the provider could answer it: merchant_side. Go's
 * `context canceled` is the caller cancelling (a deadline is `context deadline exceeded`).
 */
const CLIENT_SIDE: ReadonlySet<string> = new Set([
  "ABORT_ERR",
  "UND_ERR_ABORTED",
  "context canceled",
  "ERR_INVALID_ARG_TYPE",
  "ERR_INVALID_ARG_VALUE",
  "ERR_INVALID_URL",
  "ERR_INVALID_HTTP_TOKEN",
  "ERR_HTTP_INVALID_HEADER_VALUE",
  "ERR_INVALID_CHAR",
  "UND_ERR_INVALID_ARG",
  "EMFILE",
  "ENFILE",
  "EADDRNOTAVAIL",
]);

/**
 * Cancellations that are also how a client times a request out (fetch's AbortSignal.timeout, an
 * AbortController on a timer; .NET HttpClient.Timeout): a timeout against the provider when the
 * span lasted at least traffic.client_timeout_ms, the merchant's own cancellation when shorter.
 */
const AMBIGUOUS_CANCEL: ReadonlySet<string> = new Set([
  "AbortError",
  "System.Threading.Tasks.TaskCanceledException",
  "TaskCanceledException",
  "System.OperationCanceledException",
  "OperationCanceledException",
]);

/**
 * An AMBIGUOUS_CANCEL however a runtime writes it: `DOMException [AbortError]`, `aborterror`,
 * `AbortError: The operation was aborted` name the same cancellation as `AbortError`.
 */
function isAmbiguousCancel(errorType: string): boolean {
  if (AMBIGUOUS_CANCEL.has(errorType)) return true;
  return /\b(aborterror|taskcanceledexception|operationcanceledexception)\b/i.test(errorType);
}

/** The contract's failure reason for an error.type (Node.js and undici codes; OpenTelemetry's _OTHER). */
const FAILURES: Readonly<Record<string, FailureReason>> = {
  ECONNREFUSED: "connect",
  EHOSTUNREACH: "connect",
  ENETUNREACH: "connect",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  ECONNRESET: "reset",
  EPIPE: "reset",
  UND_ERR_SOCKET: "reset",
  UND_ERR_CLOSED: "reset",
  CERT_HAS_EXPIRED: "tls",
  DEPTH_ZERO_SELF_SIGNED_CERT: "tls",
  SELF_SIGNED_CERT_IN_CHAIN: "tls",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "tls",
  ERR_TLS_CERT_ALTNAME_INVALID: "tls",
  HPE_INVALID_CONSTANT: "protocol",
  HPE_INVALID_STATUS: "protocol",
};

/**
 * Timeouts of any runtime: ETIMEDOUT, ESOCKETTIMEDOUT, TimeoutError, UND_ERR_*_TIMEOUT,
 * java.net.SocketTimeoutException, java.net.http.HttpTimeoutException, Go's
 * `context deadline exceeded`, Python's ReadTimeout... (docs/traffic.md has the table).
 */
function isTimeout(errorType: string): boolean {
  return /time[_ -]?out|timedout|deadline exceeded/i.test(errorType);
}

function failureOf(
  errorType: string,
  durationMs: number,
  clientTimeoutMs: number,
): { readonly reason: FailureReason; readonly clientSide: boolean } {
  if (isAmbiguousCancel(errorType))
    return durationMs >= clientTimeoutMs
      ? { reason: "timeout", clientSide: false }
      : { reason: "aborted", clientSide: true };
  if (CLIENT_SIDE.has(errorType))
    return {
      reason: /abort|cancel/i.test(errorType) ? "aborted" : "protocol",
      clientSide: true,
    };
  if (isTimeout(errorType)) return { reason: "timeout", clientSide: false };
  return { reason: FAILURES[errorType] ?? "protocol", clientSide: false };
}

function urlOf(a: SpanAttributes): URL | undefined {
  const full = text(a["url.full"]) ?? text(a["http.url"]);
  if (full === undefined) return undefined;
  try {
    return new URL(full);
  } catch {
    return undefined;
  }
}

function portOf(url: URL | undefined): number | null {
  if (!url) return null;
  return url.port === "" ? (DEFAULT_PORTS[url.protocol] ?? null) : Number(url.port);
}

function text(value: string | number | boolean | undefined): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function numberOf(value: string | number | boolean | undefined): number | null {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\d+$/.test(value)) return Number(value);
  return null;
}
