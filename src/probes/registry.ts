import type { DiagnosticProbeSpec, ProbeSpec } from "../model/config.js";
import { httpProbe } from "./http.js";
import { DIAGNOSTIC_KINDS, type ListedDiagnosticKind } from "./kinds/diagnostic.js";
import { flowProbe } from "./kinds/flow.js";
import type { CompositeProbe, Probe } from "./probe.js";

type KindOf<K extends ProbeSpec["kind"]> = Extract<ProbeSpec, { kind: K }>;
type ProbeRegistry = { readonly [K in ProbeSpec["kind"]]: Probe<KindOf<K>> | CompositeProbe<KindOf<K>> };

/** A diagnostic kind whose spec is declared (its module's `declare module`) but not listed: none. */
type Unlisted = Exclude<DiagnosticProbeSpec["kind"], ListedDiagnosticKind["kind"]>;
const everyDeclaredKindIsListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyDeclaredKindIsListed;

/** Probe kinds by the `kind` of their spec (blackbox_exporter's prober map). */
export const PROBES = {
  http: httpProbe,
  flow: flowProbe,
  ...Object.fromEntries(DIAGNOSTIC_KINDS.map((kind) => [kind.kind, kind.probe])),
} as ProbeRegistry;

/** The kinds that measure the network path, not the provider's API: never in SLA figures. */
export const DIAGNOSTIC_KIND_NAMES: ReadonlySet<ProbeSpec["kind"]> = new Set(
  DIAGNOSTIC_KINDS.map((kind) => kind.kind),
);

export function probeFor<S extends ProbeSpec>(spec: S): Probe<S> | CompositeProbe<S> {
  const probe = PROBES[spec.kind as ProbeSpec["kind"]] as Probe<S> | CompositeProbe<S> | undefined;
  if (!probe) throw new Error(`probe ${spec.id}: no probe of kind "${spec.kind}"`);
  return probe;
}
