import type { ProbeSpec } from "../model/config.js";
import { httpProbe } from "./http.js";
import type { Probe } from "./probe.js";

type ProbeRegistry = { readonly [K in ProbeSpec["kind"]]: Probe<Extract<ProbeSpec, { kind: K }>> };

/** Probe kinds by the `kind` of their spec (blackbox_exporter's prober map). */
export const PROBES: ProbeRegistry = {
  http: httpProbe,
};

export function probeFor<S extends ProbeSpec>(spec: S): Probe<S> {
  const probe = PROBES[spec.kind as ProbeSpec["kind"]] as Probe<S> | undefined;
  if (!probe) throw new Error(`probe ${spec.id}: no probe of kind "${spec.kind}"`);
  return probe;
}
