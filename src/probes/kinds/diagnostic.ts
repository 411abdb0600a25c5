import { dnsKind } from "./dns.js";
import { tcpKind } from "./tcp.js";
import { tlsKind } from "./tls.js";

/**
 * The diagnostic kinds, each whole in its own module (./kind.ts): the wire union, the conversion,
 * the demo's retargeting and the prober's map all follow this list. A new kind is its module and
 * a line here; `tsc` fails while a kind's spec is declared and not listed (src/probes/registry.ts).
 */
export const DIAGNOSTIC_KINDS = [tlsKind, dnsKind, tcpKind] as const;

export type ListedDiagnosticKind = (typeof DIAGNOSTIC_KINDS)[number];
