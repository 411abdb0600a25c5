import type { HttpProbeSpec, Target, TargetAuth } from "../model/config.js";
import type { ResultFlag } from "../model/result.js";
import type { Secret } from "../model/secret.js";
import { AGENT_VERSION } from "../version.js";
import { addressesObserved, answeredAddressOf, triedAddressesOf } from "./address.js";
import type { Observation, Probe, ProbeContext } from "./probe.js";
import { exchangeOnLiveConnection, type LiveExchange } from "./stale-connection.js";

export const USER_AGENT = `slo-agent/${AGENT_VERSION}`;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * The HTTP probe: one request (plus redirects when follow_redirects > 0) through the target's
 * dispatcher. It only observes; the harness owns the deadline, the duration and the outcome.
 */
export const httpProbe: Probe<HttpProbeSpec> = {
  kind: "http",
  async observe(spec, ctx) {
    let { url, origin, path } = firstRequestOf(spec, ctx.target);
    let method = spec.method.toUpperCase();
    let body = spec.body;
    let sameOrigin = true;
    let hops = 0;
    for (;;) {
      const seen = await exchangeOnLiveConnection(ctx.dispatcher, ctx.clock, {
        origin,
        path,
        method,
        headers: requestHeaders(spec, ctx.target, { sameOrigin, withBody: body !== null }),
        body,
        maxBodyBytes: spec.maxBodyBytes,
        reset: !ctx.target.keepAlive,
        signal: ctx.signal,
        queuedMs: ctx.queuedMs,
      });
      const location = seen.headers.location;
      const redirected = seen.status !== null && REDIRECT_STATUSES.has(seen.status) && location !== undefined;
      if (!redirected || seen.bodyError || ctx.signal.aborted)
        return observationOf(seen, ctx, origin, hops, false);
      if (hops >= spec.followRedirects)
        return observationOf(seen, ctx, origin, hops, spec.followRedirects > 0);
      const next = new URL(location, url);
      // A 307/308 repeats the request with its body: to another origin that would hand a
      // request body (often a payment or a credential in JSON) to a server nobody configured.
      if ((seen.status === 307 || seen.status === 308) && body !== null && next.origin !== origin) {
        return observationOf(
          seen,
          ctx,
          origin,
          hops,
          false,
          `${seen.status} to ${next.origin} not followed: the request has a body`,
        );
      }
      // Credentials never follow a redirect to another origin: neither `auth` nor any configured
      // header (a header credential such as X-Api-Key is just a header), and never back again.
      sameOrigin &&= next.origin === origin;
      if (seen.status === 303 || ((seen.status === 301 || seen.status === 302) && method === "POST")) {
        method = "GET";
        body = null;
      }
      url = next;
      origin = next.origin;
      path = `${next.pathname}${next.search}`;
      hops++;
    }
  },
};

interface RequestUrl {
  readonly url: URL;
  readonly origin: string;
  /** Path and query, as sent. */
  readonly path: string;
}

/** Each probe's first URL, parsed once per target base URL (URL's origin getter took ~13 µs a run). */
const firstRequests = new WeakMap<
  HttpProbeSpec,
  { readonly baseUrl: string; readonly request: RequestUrl }
>();

function firstRequestOf(spec: HttpProbeSpec, target: Target): RequestUrl {
  const known = firstRequests.get(spec);
  if (known?.baseUrl === target.baseUrl) return known.request;
  const url = new URL(`${target.baseUrl}${spec.path.startsWith("/") ? "" : "/"}${spec.path}`);
  const request = { url, origin: url.origin, path: `${url.pathname}${url.search}` };
  firstRequests.set(spec, { baseUrl: target.baseUrl, request });
  return request;
}

function observationOf(
  seen: LiveExchange,
  ctx: ProbeContext,
  origin: string,
  hops: number,
  limitHit: boolean,
  notFollowed: string | null = null,
): Observation {
  const flags: ResultFlag[] = [];
  if (limitHit) flags.push("redirect_limit");
  if (seen.bodyBytes > seen.body.length) flags.push("body_capped");
  return {
    status: seen.status,
    headers: seen.headers,
    body: seen.body,
    error: seen.error,
    bodyError: seen.bodyError,
    connected: seen.trace.socket !== null,
    phases: seen.trace.phases(ctx.startedAt),
    roundTripMs: seen.trace.roundTripMs,
    // From the run's start when this is its only request; a redirect's or a retry's from its own.
    agentMs: seen.trace.agentSideMs(
      hops === 0 && seen.staleRetry === null ? ctx.startedAt : seen.trace.startedAt,
    ),
    queuedAtHeadersMs: seen.trace.queuedAtHeaders,
    flags,
    detail: limitHit ? `still redirected after ${hops} hops` : (notFollowed ?? seen.staleRetry),
    // Where the response came from, or which addresses a request without one tried: whether a
    // target has answered is judged by its address too (src/slo/target-reach.ts).
    observed:
      seen.status !== null
        ? addressesObserved(answeredAddressOf(seen.trace.socket, origin), [])
        : addressesObserved(null, triedAddressesOf(seen.error, origin)),
  };
}

function requestHeaders(
  spec: HttpProbeSpec,
  target: Target,
  { sameOrigin, withBody }: { sameOrigin: boolean; withBody: boolean },
): Record<string, string> {
  const headers: Record<string, string> = { "user-agent": USER_AGENT, accept: "application/json" };
  // A credential header is revealed here, into the request, and nowhere else. The configured
  // headers are for the target's own origin: which of them carry a credential cannot be known
  // (an inline literal in a custom header looks like any value), so another origin gets none.
  if (sameOrigin) {
    // The probe's own headers after the target's: a name in both is the probe's.
    addHeaders(headers, target.headers);
    addHeaders(headers, spec.headers);
  }
  if (withBody && headers["content-type"] === undefined) headers["content-type"] = "application/json";
  const authorization = sameOrigin ? authorizationOf(target.auth) : null;
  if (authorization) headers.authorization = authorization;
  return headers;
}

function addHeaders(
  headers: Record<string, string>,
  configured: Readonly<Record<string, string | Secret>>,
): void {
  for (const name of Object.keys(configured)) {
    const value = configured[name]!;
    headers[name.toLowerCase()] = typeof value === "string" ? value : value.reveal();
  }
}

/** The only place a credential is revealed: straight into the request header. */
function authorizationOf(auth: TargetAuth): string | null {
  switch (auth.type) {
    case "basic": {
      const pair = `${auth.username.reveal()}:${auth.password.reveal()}`;
      return `Basic ${Buffer.from(pair, "utf8").toString("base64")}`;
    }
    case "bearer":
      return `Bearer ${auth.token.reveal()}`;
    case "none":
      return null;
  }
}
