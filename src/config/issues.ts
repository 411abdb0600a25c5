import type * as z from "zod";
import type { ConfigProblem } from "./problems.js";
import type { FieldPath, YamlSource } from "./source.js";

/**
 * Turns zod's issues into located, one-line problems in the project's own words: "required",
 * "unknown key "servce_class" (did you mean "service_class"?)", "expected a number, got a string".
 * No message ever repeats the offending value, so a secret given in the wrong place stays secret.
 */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  source: YamlSource,
  schema: z.ZodType,
  data: unknown,
  prefix: FieldPath = [],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, path, data);
      for (const key of issue.keys) {
        problems.push(source.problem([...prefix, ...path, key], unknownKeyMessage(key, known), "key"));
      }
      continue;
    }
    const value = valueAt(data, path);
    problems.push(source.problem([...prefix, ...path], messageFor(issue, value)));
  }
  return problems;
}

function messageFor(issue: z.core.$ZodIssue, value: unknown): string {
  if (value === undefined && issue.code !== "custom") return "required";
  switch (issue.code) {
    case "invalid_type":
      return `expected ${describeExpected(issue.expected)}, got ${describeValue(value)}`;
    case "invalid_value":
      if (issue.path.length === 1 && issue.path[0] === "version") {
        return `unsupported version ${JSON.stringify(value)} (this agent reads version 1)`;
      }
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of: ${issue.values.join(", ")}`;
    case "invalid_union":
      if ("options" in issue && Array.isArray(issue.options))
        // An option of undefined is a member whose discriminator has a default (kind: http).
        return `must be one of: ${issue.options.filter((o) => o != null).join(", ")}`;
      return `expected ${describeUnion(issue)}, got ${describeValue(value)}`;
    case "too_small":
      if (issue.origin === "string" && issue.minimum === 1) return "must not be empty";
      return issue.message;
    default:
      return issue.message;
  }
}

function describeUnion(issue: z.core.$ZodIssueInvalidUnion): string {
  const expected = issue.errors.flatMap((branch) =>
    branch.flatMap((i) =>
      i.code === "invalid_type" && i.path.length === 0 ? [describeExpected(i.expected)] : [],
    ),
  );
  return expected.length > 0 ? [...new Set(expected)].join(" or ") : "another kind of value";
}

function describeExpected(expected: string): string {
  const names: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    object: "a mapping",
    record: "a mapping",
    array: "a list",
  };
  return names[expected] ?? expected;
}

export function describeValue(value: unknown): string {
  if (value === null) return "nothing (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "boolean") return "a boolean";
  return `a ${typeof value}`;
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const close = known
    .filter((k) => editDistance(k, key) <= 2)
    .sort((a, b) => editDistance(a, key) - editDistance(b, key));
  if (close.length > 0) return `unknown key "${key}" (did you mean "${close[0]}"?)`;
  return known.length > 0 ? `unknown key "${key}" (known: ${known.join(", ")})` : `unknown key "${key}"`;
}

function valueAt(data: unknown, path: FieldPath): unknown {
  let node = data;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

type SchemaDef = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
};

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** The keys the schema allows in the object at `path` (for "did you mean"). */
function knownKeysAt(schema: z.ZodType, path: FieldPath, data: unknown): string[] {
  let node: z.ZodType | undefined = schema;
  for (let depth = 0; node && depth <= path.length; depth++) {
    node = unwrap(node, valueAt(data, path.slice(0, depth)));
    if (depth === path.length) break;
    const def = defOf(node);
    const segment = path[depth]!;
    node = def.type === "object" ? def.shape?.[String(segment)] : (def.valueType ?? def.element);
  }
  const def = node ? defOf(node) : undefined;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: z.ZodType, value: unknown): z.ZodType {
  let node = schema;
  for (;;) {
    const def = defOf(node);
    if (def.innerType) node = def.innerType;
    else if (def.type === "pipe" && def.in) node = def.in;
    else if (def.type === "union" && def.options) node = pickOption(def, value) ?? def.options[0]!;
    else return node;
  }
}

function pickOption(def: SchemaDef, value: unknown): z.ZodType | undefined {
  if (!def.discriminator || value === null || typeof value !== "object") return undefined;
  const wanted = (value as Record<string, unknown>)[def.discriminator];
  return def.options?.find((option) => {
    const field = defOf(option).shape?.[def.discriminator!];
    const values = field ? (defOf(field) as { values?: unknown[] }).values : undefined;
    return values?.includes(wanted);
  });
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
