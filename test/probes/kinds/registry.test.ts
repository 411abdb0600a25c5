import { describe, expect, it } from "vitest";
import { DIAGNOSTIC_WIRE_KINDS } from "../../../src/config/kinds.js";
import { ProbeWire } from "../../../src/config/wire.js";
import type { ProbeSpecBase } from "../../../src/model/config.js";
import { DIAGNOSTIC_CATEGORY } from "../../../src/model/result.js";
import { DIAGNOSTIC_KINDS, PROBES, probeFor } from "../../../src/probes/registry.js";

/** One valid probe of each diagnostic kind, as written in a probe file. */
const SAMPLES: Readonly<Record<string, Record<string, unknown>>> = {
  tls: { id: "t", kind: "tls", every: "30s", host: "example.com" },
  dns: { id: "d", kind: "dns", every: "30s", name: "example.com" },
  tcp: { id: "c", kind: "tcp", every: "30s", host: "example.com", port: 443 },
};

const base: ProbeSpecBase = {
  id: "x",
  category: DIAGNOSTIC_CATEGORY,
  target: null,
  schedule: { kind: "every", intervalMs: 30_000 },
  timeoutMs: 10_000,
  writes: false,
  expect: null,
  source: { file: "/probes/p.yaml", line: 1 },
};

const configKinds = DIAGNOSTIC_WIRE_KINDS.map((entry) => entry.kind as string);

describe("the kind registry", () => {
  it("names the same diagnostic kinds on the config side and the prober side", () => {
    expect([...DIAGNOSTIC_KINDS].sort()).toEqual([...configKinds].sort());
    expect(Object.keys(PROBES).sort()).toEqual(["flow", "http", ...configKinds].sort());
  });

  for (const entry of DIAGNOSTIC_WIRE_KINDS) {
    it(`${entry.kind}: a wire member, a conversion and a probe`, () => {
      const sample = SAMPLES[entry.kind];
      expect(sample, `no sample probe of kind ${entry.kind} in this test`).toBeDefined();
      const wire = ProbeWire.parse(sample);
      expect(wire.kind).toBe(entry.kind);
      expect(() => ProbeWire.parse({ ...sample, unknown_key: 1 })).toThrow(/unknown_key/);
      const toSpec = entry.toSpec as (
        w: unknown,
        b: ProbeSpecBase,
        r: (f: string) => string,
      ) => { kind: string };
      const spec = toSpec(wire, base, (f) => f);
      expect(spec.kind).toBe(entry.kind);
      const probe = probeFor(spec as Parameters<typeof probeFor>[0]);
      expect(probe.kind).toBe(entry.kind);
    });
  }
});
