import type { FailureReason } from "../model/result.js";

/**
 * Why a request got no response, from the error's code: a table, not branches. Codes come from
 * undici (UND_ERR_*), Node's net/dns (E*), OpenSSL via Node's tls (certificate codes) and
 * llhttp (HPE_*). The cause chain and AggregateError members (happy eyeballs) are searched too.
 */
const REASON_BY_CODE: Readonly<Record<string, FailureReason>> = {
  UND_ERR_CONNECT_TIMEOUT: "timeout",
  UND_ERR_HEADERS_TIMEOUT: "timeout",
  UND_ERR_BODY_TIMEOUT: "timeout",
  ETIMEDOUT: "timeout",
  ERR_TLS_HANDSHAKE_TIMEOUT: "timeout",
  ECONNREFUSED: "connect",
  EHOSTUNREACH: "connect",
  ENETUNREACH: "connect",
  EHOSTDOWN: "connect",
  ENETDOWN: "connect",
  EADDRNOTAVAIL: "connect",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  EAI_FAIL: "dns",
  EAI_NONAME: "dns",
  EAI_NODATA: "dns",
  ECONNRESET: "reset",
  EPIPE: "reset",
  ECONNABORTED: "reset",
  UND_ERR_SOCKET: "reset",
  DEPTH_ZERO_SELF_SIGNED_CERT: "tls",
  SELF_SIGNED_CERT_IN_CHAIN: "tls",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "tls",
  UNABLE_TO_GET_ISSUER_CERT: "tls",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "tls",
  CERT_HAS_EXPIRED: "tls",
  CERT_NOT_YET_VALID: "tls",
  CERT_REVOKED: "tls",
  CERT_UNTRUSTED: "tls",
  CERT_REJECTED: "tls",
  HOSTNAME_MISMATCH: "tls",
  EPROTO: "tls",
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: "protocol",
  UND_ERR_RES_EXCEEDED_MAX_SIZE: "protocol",
  UND_ERR_INFO: "protocol",
  UND_ERR_HEADERS_OVERFLOW: "protocol",
  UND_ERR_ABORTED: "aborted",
  UND_ERR_DESTROYED: "aborted",
  UND_ERR_CLOSED: "aborted",
  ABORT_ERR: "aborted",
};

/** undici error classes by name, for errors raised without a code (e.g. some HTTPParserErrors). */
const REASON_BY_NAME: Readonly<Record<string, FailureReason>> = {
  HTTPParserError: "protocol",
  HeadersOverflowError: "protocol",
  ResponseContentLengthMismatchError: "protocol",
  ConnectTimeoutError: "timeout",
  HeadersTimeoutError: "timeout",
  BodyTimeoutError: "timeout",
  SocketError: "reset",
  RequestAbortedError: "aborted",
  ClientDestroyedError: "aborted",
  ClientClosedError: "aborted",
  AbortError: "aborted",
};

const REASON_BY_PREFIX: readonly (readonly [string, FailureReason])[] = [
  ["HPE_", "protocol"],
  ["ERR_TLS_", "tls"],
  ["ERR_SSL_", "tls"],
  ["CERT_", "tls"],
];

/**
 * The code of the error or of the first cause with a known one, else the first code seen, else
 * the name of an undici error class that carries no code.
 */
export function errorCodeOf(error: unknown): string | null {
  let fallback: string | null = null;
  let named: string | null = null;
  for (const e of causeChain(error)) {
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof name === "string" && REASON_BY_NAME[name]) named ??= name;
    if (typeof code !== "string") continue;
    if (reasonForCode(code)) return code;
    fallback ??= code;
  }
  return fallback ?? named;
}

function reasonForCode(code: string): FailureReason | undefined {
  return (
    REASON_BY_CODE[code] ??
    REASON_BY_NAME[code] ??
    REASON_BY_PREFIX.find(([prefix]) => code.startsWith(prefix))?.[1]
  );
}

/**
 * The contract reason for a transport error. An error no table row knows is `connect` when no
 * connection was ever made and `protocol` once one was (something went wrong in the exchange).
 */
export function failureReasonOf(error: unknown, connected: boolean): FailureReason {
  if (misbehaviourOf(error)) return "protocol";
  const code = errorCodeOf(error);
  const known = code === null ? undefined : reasonForCode(code);
  if (known) return known;
  return connected ? "protocol" : "connect";
}

/**
 * Failures raised inside the agent, not by the network or the provider: the process ran out of
 * file descriptors or memory, undici refused the request as built (an invalid header, argument
 * or TLS option), or OpenSSL could not use a local setting. Never counted against the provider.
 */
const AGENT_CODES: ReadonlySet<string> = new Set([
  "EMFILE",
  "ENFILE",
  "ENOMEM",
  "ENOBUFS",
  "UND_ERR_INVALID_ARG",
  "UND_ERR_NOT_SUPPORTED",
  "ERR_INVALID_ARG_TYPE",
  "ERR_INVALID_ARG_VALUE",
  "ERR_INVALID_HTTP_TOKEN",
  "ERR_INVALID_CHAR",
  "ERR_HTTP_INVALID_HEADER_VALUE",
  "ERR_TLS_INVALID_PROTOCOL_VERSION",
  "ERR_TLS_PROTOCOL_VERSION_CONFLICT",
  "ERR_TLS_INVALID_CONTEXT",
  "ERR_SSL_NO_CIPHERS_AVAILABLE",
  "ERR_SSL_NO_PROTOCOLS_AVAILABLE",
]);
const AGENT_NAMES: ReadonlySet<string> = new Set(["InvalidArgumentError", "NotSupportedError"]);
/** OpenSSL library errors raised while the agent sets up a context (a key or CA it cannot load). */
const AGENT_PREFIXES = ["ERR_OSSL_"];

/** The code (or undici class name) of a failure raised inside the agent, else null. */
export function agentErrorOf(error: unknown): string | null {
  for (const e of causeChain(error)) {
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (
      typeof code === "string" &&
      (AGENT_CODES.has(code) || AGENT_PREFIXES.some((p) => code.startsWith(p)))
    ) {
      return code;
    }
    if (typeof name === "string" && AGENT_NAMES.has(name)) return name;
  }
  return null;
}

/**
 * undici raises its socket error (UND_ERR_SOCKET, otherwise a reset) with these messages when
 * the server broke HTTP rather than the connection: a 100 Continue that was never asked for (a
 * flood of them was classified `reset`), a response with no request, an unasked upgrade.
 */
const MISBEHAVIOUR_BY_SOCKET_MESSAGE: Readonly<Record<string, string>> = {
  "bad response":
    "the server sent a response that was not due (an unasked 100 Continue or a response before any request)",
  "bad upgrade": "the server switched protocols without being asked",
};

/** A one-line account of a server that broke HTTP, or null for any other failure. */
export function misbehaviourOf(error: unknown): string | null {
  for (const e of causeChain(error)) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code !== "UND_ERR_SOCKET" || typeof message !== "string") continue;
    const account = MISBEHAVIOUR_BY_SOCKET_MESSAGE[message];
    if (account) return `${code}: ${message}: ${account}`;
  }
  return null;
}

export function* causeChain(error: unknown, depth = 0): Generator<object> {
  if (error === null || typeof error !== "object" || depth > 8) return;
  yield error;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  yield* causeChain(cause, depth + 1);
  if (Array.isArray(errors)) for (const e of errors) yield* causeChain(e, depth + 1);
}
