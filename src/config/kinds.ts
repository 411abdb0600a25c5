import { dnsSpecOf } from "../probes/kinds/dns.js";
import { dnsFields } from "../probes/kinds/dns-wire.js";
import { tcpSpecOf } from "../probes/kinds/tcp.js";
import { tcpFields } from "../probes/kinds/tcp-wire.js";
import { tlsSpecOf } from "../probes/kinds/tls.js";
import { tlsFields } from "../probes/kinds/tls-wire.js";

/**
 * The diagnostic kinds (they measure the network path, not the provider's API) as the config side
 * sees them: each kind's wire keys and its conversion to a spec. The wire union (wire.ts), the
 * conversion (convert.ts) and `ProbeSpec` (model/config.ts) are built from this list; the prober
 * thread has its own line per kind in src/probes/registry.ts, because this list loads zod.
 */
export const DIAGNOSTIC_WIRE_KINDS = [
  { kind: "tls", fields: tlsFields, toSpec: tlsSpecOf },
  { kind: "dns", fields: dnsFields, toSpec: dnsSpecOf },
  { kind: "tcp", fields: tcpFields, toSpec: tcpSpecOf },
] as const;

export type DiagnosticWireKind = (typeof DIAGNOSTIC_WIRE_KINDS)[number];
