import type * as Zod from "zod";
import type { ProbeSpec, ProbeSpecBase } from "../../model/config.js";
import type { Probe } from "../probe.js";

/** Where the demo's simulator stands in for the network (src/sim/network.ts). */
export interface SimulatorNetwork {
  readonly tls: { readonly host: string; readonly port: number; readonly caFile: string };
  readonly dnsServer: string;
}

/**
 * A diagnostic kind (one that measures the network path, never the provider's API) whole: its
 * keys, its conversion to a spec, its probe. The config side builds the wire union and the
 * conversion from the list in ./diagnostic.ts, the prober side its probe map; so a new kind is
 * its own file and one line there (docs/probes.md, "Adding a kind").
 *
 * `fields` is given zod rather than importing it: the prober thread loads this module and never
 * loads zod (test/architecture/start-up-imports.test.ts).
 */
export interface DiagnosticKind<
  K extends string,
  F extends Zod.ZodRawShape,
  S extends ProbeSpec & { kind: K },
> {
  readonly kind: K;
  /** Its keys besides id, kind, every/schedule and timeout_ms, each with a `.describe(...)`. */
  readonly fields: (z: typeof Zod) => F;
  /** The spec of a parsed probe; paths in it resolve against the file that declares it. */
  readonly toSpec: (
    wire: Zod.output<Zod.ZodObject<F>>,
    base: ProbeSpecBase,
    resolvePath: (file: string) => string,
  ) => S;
  readonly probe: Probe<S>;
  /** The demo's version of the spec, aimed at the simulator's network; absent: probed as written. */
  readonly forSimulator?: (spec: S, network: SimulatorNetwork) => S;
}

/** A kind's definition, its types checked against each other (the wire value its conversion takes). */
export function diagnosticKind<
  K extends string,
  F extends Zod.ZodRawShape,
  S extends ProbeSpec & { kind: K },
>(kind: DiagnosticKind<K, F, S>): DiagnosticKind<K, F, S> {
  return kind;
}
