import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadConfig } from "../../../src/config/index.js";
import { ProbeWire } from "../../../src/config/wire.js";
import { DIAGNOSTIC_CATEGORY } from "../../../src/model/result.js";
import { DIAGNOSTIC_KINDS } from "../../../src/probes/kinds/diagnostic.js";
import { DIAGNOSTIC_KIND_NAMES, PROBES, probeFor } from "../../../src/probes/registry.js";
import { ConfigDirs, minimalSlo } from "../../config/config-dir.js";

const dirs = new ConfigDirs();
afterAll(() => dirs.remove());

/** One valid probe of each diagnostic kind, as written in a probe file. */
const SAMPLES: Readonly<Record<string, Record<string, unknown>>> = {
  tls: { id: "t", kind: "tls", every: "30s", host: "example.com" },
  dns: { id: "d", kind: "dns", every: "30s", name: "example.com" },
  tcp: { id: "c", kind: "tcp", every: "30s", host: "example.com", port: 443 },
};

const KINDS_DIR = join(import.meta.dirname, "../../../src/probes/kinds");

/** Every diagnostic kind a module of src/probes/kinds/ defines (an object with kind, fields, toSpec, probe). */
async function definedKinds(): Promise<string[]> {
  const found: string[] = [];
  for (const file of readdirSync(KINDS_DIR).filter((f) => f.endsWith(".ts"))) {
    const module = (await import(join(KINDS_DIR, file))) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      const v = value as { kind?: unknown; fields?: unknown; toSpec?: unknown; probe?: unknown };
      if (value && typeof value === "object" && typeof v.kind === "string" && v.fields && v.toSpec && v.probe)
        found.push(v.kind);
    }
  }
  return found;
}

describe("the kind registry", () => {
  it("lists every kind a module defines, once", async () => {
    const listed = DIAGNOSTIC_KINDS.map((kind) => kind.kind as string);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...(await definedKinds())].sort()).toEqual([...listed].sort());
  });

  it("gives the prober one probe per kind: http, flow and the listed ones", () => {
    const listed = DIAGNOSTIC_KINDS.map((kind) => kind.kind as string);
    expect(Object.keys(PROBES).sort()).toEqual(["flow", "http", ...listed].sort());
    expect([...DIAGNOSTIC_KIND_NAMES].sort()).toEqual([...listed].sort());
  });

  for (const kind of DIAGNOSTIC_KINDS) {
    it(`${kind.kind}: parses, refuses unknown keys, converts and finds its probe`, async () => {
      const sample = SAMPLES[kind.kind];
      expect(sample, `add a sample probe of kind ${kind.kind} to SAMPLES`).toBeDefined();
      expect(ProbeWire.parse(sample).kind).toBe(kind.kind);
      expect(() => ProbeWire.parse({ ...sample, unknown_key: 1 })).toThrow(/unknown_key/);
      const dir = await dirs.create({ "slo.yaml": minimalSlo({ probes: stringify({ probes: [sample] }) }) });
      const { config } = await loadConfig(join(dir, "slo.yaml"));
      const spec = config.probes.find((p) => p.id === sample!.id)!;
      expect(spec.kind).toBe(kind.kind);
      expect(spec.category).toBe(DIAGNOSTIC_CATEGORY);
      expect(probeFor(spec)).toBe(kind.probe);
    });
  }
});
