/**
 * Reading a scenario from YAML (or JSON, which YAML reads too), with every problem reported at
 * once as `FILE:LINE:COL: field.path: message`, like the configuration loader.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError, type ConfigProblem } from "../config/problems.js";
import { packagePath } from "../package-root.js";
import { SIM_CATEGORIES } from "./routes.js";
import type { Faults, Scenario } from "./scenario.js";
import { FAULT_BLOCK, faultsFromWire, scenarioFromWire, scenarioWire } from "./scenario-schema.js";

export function parseScenario(yamlText: string, source = "scenario"): Scenario {
  return scenarioFromWire(parseWire(yamlText, scenarioWire, source));
}

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError([
      { file, line: 1, col: 1, path: "scenario", message: `cannot read file (${reason})` },
    ]);
  }
  return parseScenario(text, file);
}

/** One category's fault block, as PATCH /__sim/scenario/categories/<category> takes it. */
export function parseFaults(text: string, source: string): Faults {
  return faultsFromWire(parseWire(text, FAULT_BLOCK, source));
}

function parseWire<T extends z.ZodType>(text: string, schema: T, source: string): z.output<T> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          file: source,
          line: pos.line,
          col: pos.col,
          path: "scenario",
          message: firstLine(e.message),
        };
      }),
    );
  }
  const result = schema.safeParse(doc.toJS() ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => problemsOf(issue, doc, lineCounter, source));
  throw new ConfigError(problems.sort((a, b) => a.line - b.line || a.col - b.col));
}

function problemsOf(
  issue: z.core.$ZodIssue,
  doc: Document,
  lineCounter: LineCounter,
  source: string,
): ConfigProblem[] {
  const at = (path: readonly PropertyKey[], message: string): ConfigProblem => {
    const offset = offsetOf(doc, path);
    const pos = lineCounter.linePos(offset);
    return { file: source, line: pos.line, col: pos.col, path: dotted(path), message };
  };
  if (issue.code === "unrecognized_keys") {
    const inCategories = issue.path.length === 1 && issue.path[0] === "categories";
    return issue.keys.map((key) =>
      at(
        [...issue.path, key],
        inCategories ? `unknown category "${key}" (known: ${SIM_CATEGORIES.join(", ")})` : "unknown key",
      ),
    );
  }
  return [at(issue.path, issue.message)];
}

/** The source offset of the deepest key found along path (where a reader looks for the mistake). */
function offsetOf(doc: Document, path: readonly PropertyKey[]): number {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      offset = (isScalar(pair.key) && pair.key.range?.[0]) || offset;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(segment)];
    } else {
      break;
    }
  }
  return offset;
}

function dotted(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "scenario" : path.map(String).join(".");
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}

/** Where the shipped scenarios live (scenarios/ at the package root). */
export const SHIPPED_SCENARIOS_DIR = packagePath("scenarios");

/** A shipped scenario by name: "healthy", "demo" or "outage". */
export function shippedScenario(name: "healthy" | "demo" | "outage"): Scenario {
  return loadScenario(join(SHIPPED_SCENARIOS_DIR, `${name}.yaml`));
}
