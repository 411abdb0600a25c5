import { promises as dns } from "node:dns";
import type * as Zod from "zod";
import type { ProbeSpecBase } from "../../model/config.js";
import type { FailureReason } from "../../model/result.js";
import type { Observation, Probe, ProbeContext } from "../probe.js";
import { diagnosticKind } from "./kind.js";
import { plainObservation, socketPhases } from "./socket.js";

/** A name resolved through the system resolver or a named server. */
export interface DnsProbeSpec extends ProbeSpecBase {
  readonly kind: "dns";
  readonly name: string;
  readonly recordType: "A" | "AAAA";
  /** "host" or "host:port" of the server asked; null: the system resolver. */
  readonly server: string | null;
}

declare module "../../model/config.js" {
  interface DiagnosticProbeSpecs {
    dns: DnsProbeSpec;
  }
}

function dnsFields(z: typeof Zod) {
  return {
    name: z.string().min(1, "must not be empty").describe("(dns) The name to resolve."),
    type: z.enum(["A", "AAAA"]).default("A").describe("(dns) The record type asked for."),
    server: z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[^\s:[\]]+)(:\d{1,5})?$/, 'must be "address" or "address:port"')
      .optional()
      .describe("(dns) The DNS server asked (address or address:port); default: the system resolver."),
  };
}

/** The DNS answer codes Node reports as error codes, by the rcode they stand for. */
const RCODE_BY_CODE: Readonly<Record<string, string>> = {
  ENOTFOUND: "NXDOMAIN",
  ENODATA: "NOERROR",
  ESERVFAIL: "SERVFAIL",
  EREFUSED: "REFUSED",
  EFORMERR: "FORMERR",
  ENOTIMP: "NOTIMP",
};

/** The DNS kind's own failure reasons; an answer that never came is `timeout` or `connect`. */
const REASONS = {
  nxdomain: "dns",
  no_data: "dns",
  servfail: "dns",
  refused: "dns",
  bad_answer: "dns",
} as const satisfies Record<string, FailureReason>;

const REASON_BY_RCODE: Readonly<Record<string, keyof typeof REASONS>> = {
  NXDOMAIN: "nxdomain",
  NOERROR: "no_data",
  SERVFAIL: "servfail",
  REFUSED: "refused",
};

/**
 * Resolves one name: through a Resolver aimed at `server` (setServers) when one is named, else
 * through the system's resolver (getaddrinfo, as every client of the provider does).
 */
const dnsProbe: Probe<DnsProbeSpec> = {
  kind: "dns",
  reasons: REASONS,
  async observe(spec, ctx) {
    try {
      const addresses = await resolve(spec, ctx);
      const at = ctx.clock.monotonic() - ctx.startedAt;
      return plainObservation({
        phases: socketPhases(at, null, null),
        observed: {
          kind: "dns",
          rcode: "NOERROR",
          addresses,
          ...(spec.server ? { server: spec.server } : {}),
        },
        detail: `${spec.name} ${spec.recordType}: ${addresses.join(", ")}`,
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const rcode = typeof code === "string" ? RCODE_BY_CODE[code] : undefined;
      if (rcode === undefined || ctx.signal.aborted) throw ctx.signal.aborted ? ctx.signal.reason : error;
      return answered(spec, ctx, rcode);
    }
  },
};

function answered(spec: DnsProbeSpec, ctx: ProbeContext, rcode: string): Observation {
  const at = ctx.clock.monotonic() - ctx.startedAt;
  return plainObservation({
    phases: socketPhases(at, null, null),
    observed: { kind: "dns", rcode, addresses: [], ...(spec.server ? { server: spec.server } : {}) },
    detail: `${spec.name} ${spec.recordType}: ${rcode === "NOERROR" ? "no records" : rcode}`,
    failure: REASON_BY_RCODE[rcode] ?? "bad_answer",
  });
}

async function resolve(spec: DnsProbeSpec, ctx: ProbeContext): Promise<string[]> {
  if (spec.server === null) {
    const family = spec.recordType === "A" ? 4 : 6;
    const found = await abortable(dns.lookup(spec.name, { family, all: true }), ctx, () => {});
    return found.map((a) => a.address);
  }
  const resolver = new dns.Resolver({ timeout: spec.timeoutMs, tries: 1 });
  resolver.setServers([spec.server]);
  const asked = spec.recordType === "A" ? resolver.resolve4(spec.name) : resolver.resolve6(spec.name);
  return abortable(asked, ctx, () => resolver.cancel());
}

/** getaddrinfo cannot be cancelled: the run stops waiting for it at its deadline instead. */
function abortable<T>(work: Promise<T>, ctx: ProbeContext, cancel: () => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      cancel();
      reject(ctx.signal.reason);
    };
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => ctx.signal.removeEventListener("abort", onAbort));
  });
}

export const dnsKind = diagnosticKind({
  kind: "dns",
  fields: dnsFields,
  toSpec: (wire, base): DnsProbeSpec => ({
    ...base,
    kind: "dns",
    target: null,
    name: wire.name,
    recordType: wire.type,
    server: wire.server ?? null,
  }),
  probe: dnsProbe,
  // The simulator's name server, asked for the same name.
  forSimulator: (spec, network) => ({ ...spec, server: network.dnsServer }),
});
