import * as z from "zod";
import type { Secret } from "../model/secret.js";
import { type TrafficRoute, type TrafficSettings, trafficProbeId } from "../model/traffic.js";

// Spelled in two parts: one literal "${NAME}" reads to the linter like a template-literal slip.
const ENV = "$" + "{NAME}";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

/** A path template: absolute, no query or fragment, each segment a literal or one `{name}`. */
export function pathTemplateProblem(path: string): string | null {
  if (!path.startsWith("/")) return 'must start with "/", like /payments/v1/sessions/{id}';
  if (/[?#]/.test(path)) return "must be a path only, without a query string or fragment";
  for (const segment of path.split("/").slice(1)) {
    if (/[{}]/.test(segment) && !/^\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(segment)) {
      return `segment "${segment}" must be a literal or a whole placeholder like {id}`;
    }
  }
  return null;
}

export const TrafficRouteWire = z.strictObject({
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(METHODS, { message: `must be one of ${METHODS.join(", ")}` }))
    .describe("HTTP method of the merchant's request, e.g. POST."),
  path: z
    .string()
    .superRefine((path, ctx) => {
      const problem = pathTemplateProblem(path);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .describe("Path template, e.g. /payments/v1/sessions/{id}; {name} matches one segment."),
  target: z.string().min(1, "must not be empty").describe("The target (targets.<id>) the request goes to."),
  category: z.string().min(1, "must not be empty").describe("The category its results count for."),
});

export const TrafficWire = z
  .strictObject({
    token: z
      .string()
      .min(16, "must be at least 16 characters (e.g. the output of `openssl rand -hex 32`)")
      .optional()
      .describe(`Bearer token senders present on POST /v1/traces; use ${ENV}.`),
    token_file: z
      .string()
      .min(1, "must not be empty")
      .optional()
      .describe("File holding the token, relative to this file."),
    max_body_bytes: z
      .number()
      .int("must be a whole number of bytes")
      .min(1024, "must be >= 1024")
      .default(1024 * 1024)
      .describe("Largest OTLP request accepted, compressed and decompressed (413 beyond)."),
    client_timeout_ms: z
      .number()
      .int("must be a whole number of milliseconds")
      .min(1, "must be >= 1")
      .default(5_000)
      .describe(
        "An AbortError/TaskCanceledException span lasting at least this long counts as a provider timeout.",
      ),
    routes: z
      .array(TrafficRouteWire)
      .min(1, "must name at least one route")
      .describe("Merchant request templates that count for a category (docs/traffic.md)."),
  })
  .superRefine((traffic, ctx) => {
    const count = (traffic.token === undefined ? 0 : 1) + (traffic.token_file === undefined ? 0 : 1);
    if (count === 0) ctx.addIssue({ code: "custom", path: ["token"], message: "required (or token_file)" });
    if (count === 2)
      ctx.addIssue({
        code: "custom",
        path: ["token_file"],
        message: "give either token or token_file, not both",
      });
    const seen = new Set<string>();
    traffic.routes.forEach((route, i) => {
      const key = `${route.method} ${route.path}`;
      if (seen.has(key))
        ctx.addIssue({ code: "custom", path: ["routes", i], message: `duplicate route ${key}` });
      seen.add(key);
    });
  })
  .describe("Real-traffic evidence: merchant CLIENT spans received over OTLP/HTTP (docs/traffic.md).");

export type TrafficWireValue = z.output<typeof TrafficWire>;

/** The wire routes as the domain model has them: templates split once into segments. */
export function trafficRoutesOf(routes: TrafficWireValue["routes"]): TrafficRoute[] {
  return routes.map((r) => ({
    method: r.method,
    path: r.path,
    segments: r.path
      .split("/")
      .slice(1)
      .map((segment) => (segment.startsWith("{") ? null : segment)),
    target: r.target,
    category: r.category,
    probe: trafficProbeId(r.method, r.path),
  }));
}

/** The `traffic:` section as the domain model has it, with its token already read. */
export function trafficOf(wire: TrafficWireValue, token: Secret): TrafficSettings {
  return {
    token,
    routes: trafficRoutesOf(wire.routes),
    maxBodyBytes: wire.max_body_bytes,
    clientTimeoutMs: wire.client_timeout_ms,
  };
}
