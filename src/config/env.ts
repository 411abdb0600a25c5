import type { FieldPath } from "./source.js";

export type Environment = Readonly<Record<string, string | undefined>>;

/** A reference that could not be expanded; it names the variable, never a value. */
export interface ExpansionProblem {
  readonly path: FieldPath;
  readonly message: string;
}

export interface Expansion {
  readonly value: unknown;
  readonly problems: ExpansionProblem[];
  /** Every string that referenced the environment, by pathKey(), with the values the environment gave it. */
  readonly references: ReadonlyMap<string, readonly string[]>;
}

/** One key per field path, for looking paths up in maps and sets. */
export function pathKey(path: FieldPath): string {
  return path.join("\0");
}

/**
 * Expands `${NAME}` and `${NAME:-default}` in every string value of a parsed document (keys are
 * left alone); `$$` is a literal `$`. Like the shell, `:-` also applies when NAME is set but empty.
 */
export function expandEnvironment(data: unknown, env: Environment): Expansion {
  const problems: ExpansionProblem[] = [];
  const references = new Map<string, string[]>();
  const walk = (node: unknown, path: FieldPath): unknown => {
    if (typeof node === "string") {
      const result = expandString(node, env);
      if (result.problem) problems.push({ path, message: result.problem });
      const given = environmentValuesIn(node, env);
      if (given) references.set(pathKey(path), given);
      return result.value;
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  return { value: walk(data, []), problems, references };
}

const REFERENCE = /\$\$|\$\{([^}]*)\}|\$\{/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Expands one string; on a problem the value has every bad reference replaced by "". */
export function expandString(text: string, env: Environment): { value: string; problem: string | null } {
  let problem: string | null = null;
  const value = text.replace(REFERENCE, (match, inner: string | undefined) => {
    if (match === "$$") return "$";
    if (inner === undefined) {
      problem ??= `unterminated "\${": write \${NAME}, \${NAME:-default}, or $$ for a literal $`;
      return "";
    }
    const split = inner.indexOf(":-");
    const name = split === -1 ? inner : inner.slice(0, split);
    if (!NAME.test(name)) {
      problem ??= `invalid variable reference "\${${name}}": a name is letters, digits and _`;
      return "";
    }
    const found = lookup(env, name);
    if (split !== -1) return found === undefined || found === "" ? inner.slice(split + 2) : found;
    if (found === undefined) {
      problem ??= `environment variable ${name} is not set (write \${${name}:-default} for a default)`;
      return "";
    }
    return found;
  });
  return { value, problem };
}

/** The non-empty values the environment gives the references in `text`; null when it references none. */
export function environmentValuesIn(text: string, env: Environment): string[] | null {
  let referenced = false;
  const values: string[] = [];
  for (const match of text.matchAll(REFERENCE)) {
    if (match[0] === "$$") continue;
    referenced = true;
    const inner = match[1] ?? "";
    const split = inner.indexOf(":-");
    const found = lookup(env, split === -1 ? inner : inner.slice(0, split));
    if (found) values.push(found);
  }
  return referenced ? values : null;
}

/** Own variables only: `${constructor}` is not set just because every object has one. */
function lookup(env: Environment, name: string): string | undefined {
  const value = Object.hasOwn(env, name) ? env[name] : undefined;
  return typeof value === "string" ? value : undefined;
}
