import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith(".ts") ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']/g)].map(
    (m) => m[1]!,
  );
  const dynamic = [...text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!);
  return [...specifiers, ...dynamic];
}

/** The top-level folder under src/ a relative import from `file` lands in, or null for packages. */
function layerOf(file: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  const target = relative(SRC, join(file, "..", specifier));
  return target.split(/[\\/]/)[0] ?? null;
}

const PURE_LAYERS = ["model", "slo"];
const SIDE_EFFECTS = [
  /\bDate\.now\s*\(/,
  /\bnew Date\(\s*\)/,
  /\bperformance\.now\s*\(/,
  /\bsetTimeout\s*\(/,
  /\bsetInterval\s*\(/,
  /\bsetImmediate\s*\(/,
  /\bprocess\./,
  /\bMath\.random\s*\(/,
];
const ALLOWED_PACKAGES: Record<string, RegExp> = {
  model: /^node:util$/,
  slo: /^hdr-histogram-js(\/dist\/(HistogramBuilder|encoding)\.js)?$/,
};

describe("import boundaries", () => {
  for (const layer of PURE_LAYERS) {
    const files = sourceFiles(join(SRC, layer));
    it(`src/${layer}/ imports only src/model/ and pure packages`, () => {
      const offences: string[] = [];
      for (const file of files) {
        for (const spec of importsOf(file)) {
          const target = layerOf(file, spec);
          if (target === null) {
            if (!ALLOWED_PACKAGES[layer]!.test(spec))
              offences.push(`${relative(SRC, file)} imports "${spec}"`);
          } else if (target !== "model" && target !== layer) {
            offences.push(`${relative(SRC, file)} imports src/${target}/`);
          }
        }
      }
      expect(offences).toEqual([]);
    });

    it(`src/${layer}/ reads no clock, timer, environment or randomness`, () => {
      const offences: string[] = [];
      for (const file of files) {
        const lines = readFileSync(file, "utf8").split("\n");
        lines.forEach((line, i) => {
          if (line.trimStart().startsWith("//") || line.trimStart().startsWith("*")) return;
          for (const pattern of SIDE_EFFECTS) {
            if (pattern.test(line)) offences.push(`${relative(SRC, file)}:${i + 1}: ${line.trim()}`);
          }
        });
      }
      expect(offences).toEqual([]);
    });
  }

  it("nothing outside src/cli/ imports the command line", () => {
    const offences = sourceFiles(SRC)
      .filter((f) => !relative(SRC, f).startsWith("cli"))
      .flatMap((f) =>
        importsOf(f)
          .filter((s) => layerOf(f, s) === "cli")
          .map((s) => `${relative(SRC, f)} -> ${s}`),
      );
    expect(offences).toEqual([]);
  });

  it("detects a forbidden import (the check itself can fail)", () => {
    const fake = join(SRC, "slo", "x.ts");
    expect(layerOf(fake, "../record/store.js")).toBe("record");
    expect(SIDE_EFFECTS.some((p) => p.test("const t = Date.now();"))).toBe(true);
  });
});
