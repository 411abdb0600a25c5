import type { ProbeSpec } from "../model/config.js";
import { httpProbe } from "./http.js";
import { dnsProbe } from "./kinds/dns.js";
import { flowProbe } from "./kinds/flow.js";
import { tcpProbe } from "./kinds/tcp.js";
import { tlsProbe } from "./kinds/tls.js";
import type { CompositeProbe, Probe } from "./probe.js";

type KindOf<K extends ProbeSpec["kind"]> = Extract<ProbeSpec, { kind: K }>;
type ProbeRegistry = { readonly [K in ProbeSpec["kind"]]: Probe<KindOf<K>> | CompositeProbe<KindOf<K>> };

/** Probe kinds by the `kind` of their spec (blackbox_exporter's prober map). */
export const PROBES: ProbeRegistry = {
  http: httpProbe,
  flow: flowProbe,
  tls: tlsProbe,
  dns: dnsProbe,
  tcp: tcpProbe,
};

/** The kinds that measure the network path, not the provider's API: never in SLA figures. */
export const DIAGNOSTIC_KINDS: ReadonlySet<ProbeSpec["kind"]> = new Set(["tls", "dns", "tcp"]);

export function probeFor<S extends ProbeSpec>(spec: S): Probe<S> | CompositeProbe<S> {
  const probe = PROBES[spec.kind as ProbeSpec["kind"]] as Probe<S> | CompositeProbe<S> | undefined;
  if (!probe) throw new Error(`probe ${spec.id}: no probe of kind "${spec.kind}"`);
  return probe;
}
