import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { checkServerIdentity, connect, type PeerCertificate } from "node:tls";
import type * as Zod from "zod";
import type { ProbeSpecBase } from "../../model/config.js";
import type { FailureReason } from "../../model/result.js";
import type { Probe } from "../probe.js";
import { diagnosticKind } from "./kind.js";
import { opened, plainObservation, socketPhases } from "./socket.js";
import { hostPortFields } from "./tcp.js";

const DAY_MS = 86_400_000;

/** A TLS handshake to host:port: certificate expiry, chain validity, protocol and cipher. */
export interface TlsProbeSpec extends ProbeSpecBase {
  readonly kind: "tls";
  readonly host: string;
  readonly port: number;
  /** Fewer days than this before the certificate expires fails the probe. */
  readonly minDays: number;
  /** A PEM file of CA certificates trusted instead of the system's (a private CA); null: the system's. */
  readonly caFile: string | null;
}

declare module "../../model/config.js" {
  interface DiagnosticProbeSpecs {
    tls: TlsProbeSpec;
  }
}

function tlsFields(z: typeof Zod) {
  const { host, port } = hostPortFields(z);
  return {
    host,
    port: port.default(443),
    min_days: z
      .number()
      .int("must be a whole number")
      .min(0, "must be >= 0")
      .default(14)
      .describe("(tls) The probe fails when the certificate expires in fewer days than this."),
    ca_file: z
      .string()
      .min(1, "must not be empty")
      .optional()
      .describe("(tls) PEM file of the CA certificates to trust instead of the system's (a private CA)."),
  };
}

/** The TLS kind's own failure reasons; each is recorded as the contract reason `tls`. */
const REASONS = {
  chain_invalid: "tls",
  hostname_mismatch: "tls",
  cert_expired: "tls",
  cert_expiring: "tls",
} as const satisfies Record<string, FailureReason>;

/**
 * A TLS handshake that reads what a client would decide about the certificate without refusing
 * it: the chain's validity, the host name, the days left, the protocol and the cipher.
 */
const tlsProbe: Probe<TlsProbeSpec> = {
  kind: "tls",
  reasons: REASONS,
  async observe(spec, ctx) {
    let ca: string | null = null;
    try {
      if (spec.caFile !== null) ca = await readFile(spec.caFile, "utf8");
    } catch (error) {
      // The agent's own file, not the target's doing: never the target's failure.
      return {
        ...plainObservation({ phases: socketPhases(null, null, null), detail: null }),
        error,
        connected: false,
        flags: ["agent_error"],
      };
    }
    const socket = connect({
      host: spec.host,
      port: spec.port,
      ...(isIP(spec.host) ? {} : { servername: spec.host }),
      // Verified below, so that a broken chain is observed (and its certificate read), not thrown.
      rejectUnauthorized: false,
      ...(ca === null ? {} : { ca }),
    });
    try {
      const { dnsMs, connectMs, readyMs } = await opened(socket, "secureConnect", ctx);
      const cert = socket.getPeerCertificate();
      const notAfter = Date.parse(cert.valid_to);
      const expirySeconds = Math.floor((notAfter - ctx.clock.now()) / 1000);
      const chainError = socket.authorized ? null : String(socket.authorizationError ?? "unverified");
      const hostError = isIP(spec.host) || !cert.subject ? null : hostnameProblem(spec.host, cert);
      const failure = failureOf(chainError, hostError, expirySeconds, spec.minDays);
      return plainObservation({
        phases: socketPhases(dnsMs, connectMs, readyMs),
        observed: {
          kind: "tls",
          protocol: socket.getProtocol() ?? "unknown",
          cipher: socket.getCipher()?.name ?? "unknown",
          not_after: new Date(notAfter).toISOString(),
          expiry_seconds: expirySeconds,
          chain_valid: chainError === null,
          ...(chainError === null ? {} : { chain_error: chainError }),
          ...(hostError === null ? {} : { hostname_error: hostError }),
        },
        detail: describe(failure, chainError, hostError, expirySeconds, spec.minDays),
        failure,
      });
    } finally {
      socket.destroy();
    }
  },
};

function hostnameProblem(host: string, cert: PeerCertificate): string | null {
  const problem = checkServerIdentity(host, cert);
  return problem ? ((problem as { code?: string }).code ?? "ERR_TLS_CERT_ALTNAME_INVALID") : null;
}

function failureOf(
  chainError: string | null,
  hostError: string | null,
  expirySeconds: number,
  minDays: number,
): keyof typeof REASONS | null {
  if (expirySeconds <= 0) return "cert_expired";
  if (chainError !== null) return "chain_invalid";
  if (hostError !== null) return "hostname_mismatch";
  if (expirySeconds * 1000 < minDays * DAY_MS) return "cert_expiring";
  return null;
}

function describe(
  failure: keyof typeof REASONS | null,
  chainError: string | null,
  hostError: string | null,
  expirySeconds: number,
  minDays: number,
): string {
  const days = (expirySeconds / 86_400).toFixed(1);
  switch (failure) {
    case "cert_expired":
      return `certificate expired ${(-expirySeconds / 86_400).toFixed(1)} days ago`;
    case "chain_invalid":
      return `certificate chain not valid: ${chainError}`;
    case "hostname_mismatch":
      return `certificate does not name the host: ${hostError}`;
    case "cert_expiring":
      return `certificate expires in ${days} days (min_days ${minDays})`;
    case null:
      return `certificate valid, expires in ${days} days`;
  }
}

export const tlsKind = diagnosticKind({
  kind: "tls",
  fields: tlsFields,
  toSpec: (wire, base, resolvePath): TlsProbeSpec => ({
    ...base,
    kind: "tls",
    target: null,
    host: wire.host,
    port: wire.port,
    minDays: wire.min_days,
    caFile: wire.ca_file === undefined ? null : resolvePath(wire.ca_file),
  }),
  probe: tlsProbe,
  // The simulator's TLS listener, its certificate's CA trusted.
  forSimulator: (spec, { tls }) => ({ ...spec, host: tls.host, port: tls.port, caFile: tls.caFile }),
});
