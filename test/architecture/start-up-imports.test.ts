import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src");

/** Static imports and re-exports of a source file (not `import type`, not `import()`). */
function staticImportsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+"([^"]+)"/gms)].map((m) => m[1]!);
}

/** Every package the module graph of `entry` loads as it starts: the chain that reaches each one. */
function packagesLoadedBy(entry: string): Map<string, string> {
  const chains = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (file: string, chain: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImportsOf(file)) {
      if (spec.startsWith(".")) {
        const next = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
        visit(next, `${chain} -> ${relative(SRC, next)}`);
      } else if (!spec.startsWith("node:")) {
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        if (!chains.has(name)) chains.set(name, `${chain} -> ${spec}`);
      }
    }
  };
  visit(entry, relative(SRC, entry));
  return chains;
}

/**
 * Packages a command loads only when it needs them: each costs every process of these commands a
 * tenth of a CPU-second or more at start-up, and the system suites start hundreds of them.
 */
const LOADED_ON_DEMAND = ["pkijs", "undici"];

describe("what the CLI commands load at start-up", () => {
  for (const command of ["report", "verify", "import", "evidence"]) {
    it(`${command} loads ${LOADED_ON_DEMAND.join(" and ")} only when it uses them`, () => {
      const loaded = packagesLoadedBy(join(SRC, "cli/commands", `${command}.ts`));
      expect(LOADED_ON_DEMAND.flatMap((name) => loaded.get(name) ?? [])).toEqual([]);
      // The walk does follow the graph: the store's driver is reached through several modules.
      expect(loaded.get("better-sqlite3")).toMatch(/->.*->/);
    });
  }
});

describe("what the prober thread loads", () => {
  it("never zod (a kind's keys are given zod by the config side: src/probes/kinds/kind.ts)", () => {
    const loaded = packagesLoadedBy(join(SRC, "agent/prober-worker.ts"));
    expect(loaded.get("zod")).toBeUndefined();
    // The walk reaches the kinds: undici through the http probe, node's own modules aside.
    expect(loaded.get("undici")).toMatch(/->.*->/);
  });
});

describe("what `run` loads", () => {
  it("protobufjs only with the first protobuf OTLP request (an agent without traffic never pays its ~3 MB)", () => {
    const loaded = packagesLoadedBy(join(SRC, "cli/commands/run.ts"));
    expect(loaded.get("protobufjs")).toBeUndefined();
    // The walk reaches the traffic endpoint, and the endpoint's JSON decoder, from run.
    expect(loaded.get("@opentelemetry/api")).toMatch(/->.*->/);
    expect(packagesLoadedBy(join(SRC, "traffic/otlp-protobuf.ts")).get("protobufjs")).toBeDefined();
  });
});
