import type { DiagnosticProbeSpec, ProbeSpec } from "../model/config.js";
import { httpProbe } from "./http.js";
import { dnsProbe } from "./kinds/dns.js";
import { flowProbe } from "./kinds/flow.js";
import { tcpProbe } from "./kinds/tcp.js";
import { tlsProbe } from "./kinds/tls.js";
import type { CompositeProbe, Probe } from "./probe.js";

type KindOf<K extends ProbeSpec["kind"]> = Extract<ProbeSpec, { kind: K }>;
type ProbeOf<K extends ProbeSpec["kind"]> = Probe<KindOf<K>> | CompositeProbe<KindOf<K>>;
type ProbeRegistry = { readonly [K in ProbeSpec["kind"]]: ProbeOf<K> };

/**
 * The diagnostic kinds' probes, one line per kind of src/config/kinds.ts (that list loads zod,
 * which the prober thread never does): the types make both lists name the same kinds.
 */
const DIAGNOSTIC_PROBES: { readonly [K in DiagnosticProbeSpec["kind"]]: ProbeOf<K> } = {
  tls: tlsProbe,
  dns: dnsProbe,
  tcp: tcpProbe,
};

/** Probe kinds by the `kind` of their spec (blackbox_exporter's prober map). */
export const PROBES: ProbeRegistry = {
  http: httpProbe,
  flow: flowProbe,
  ...DIAGNOSTIC_PROBES,
};

/** The kinds that measure the network path, not the provider's API: never in SLA figures. */
export const DIAGNOSTIC_KINDS: ReadonlySet<ProbeSpec["kind"]> = new Set(
  Object.keys(DIAGNOSTIC_PROBES) as DiagnosticProbeSpec["kind"][],
);

export function probeFor<S extends ProbeSpec>(spec: S): Probe<S> | CompositeProbe<S> {
  const probe = PROBES[spec.kind as ProbeSpec["kind"]] as Probe<S> | CompositeProbe<S> | undefined;
  if (!probe) throw new Error(`probe ${spec.id}: no probe of kind "${spec.kind}"`);
  return probe;
}
