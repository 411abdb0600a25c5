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
  /** Fields whose variable is unset but that only `run` uses: they hold a stand-in, not a problem. */
  readonly deferred: readonly FieldPath[];
  /** Every string that referenced the environment, by pathKey(), with the values the environment gave it. */
  readonly references: ReadonlyMap<string, readonly string[]>;
}

/** One key per field path, for looking paths up in maps and sets. */
export function pathKey(path: FieldPath): string {
  return path.join("\0");
}

/**
 * Stands in for a field only `run` uses whose variable is unset, in commands that never probe or
 * deliver: the field's value, or undefined where an unset variable is a problem.
 */
export type StandIn = (path: FieldPath) => string | undefined;

/**
 * Expands `${NAME}` and `${NAME:-default}` in every string value of a parsed document (keys are
 * left alone); `$$` is a literal `$`. Like the shell, `:-` also applies when NAME is set but empty.
 */
export function expandEnvironment(data: unknown, env: Environment, standIn?: StandIn): Expansion {
  const problems: ExpansionProblem[] = [];
  const deferred: FieldPath[] = [];
  const references = new Map<string, string[]>();
  const walk = (node: unknown, path: FieldPath): unknown => {
    if (typeof node === "string") {
      const result = expandString(node, env);
      const given = environmentValuesIn(node, env);
      if (given) references.set(pathKey(path), given);
      const stand = result.unset ? standIn?.(path) : undefined;
      if (stand !== undefined) {
        deferred.push(path);
        return stand;
      }
      if (result.problem) problems.push({ path, message: result.problem });
      return result.value;
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  return { value: walk(data, []), problems, deferred, references };
}

const REFERENCE = /\$\$|\$\{([^}]*)\}|\$\{/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `${steps.<step>.<name>}`: not the environment's, but a value a flow's earlier step extracted. */
const STEP_VALUE = /^steps\.[A-Za-z0-9_-]+\.[A-Za-z0-9_]+$/;

/**
 * Expands one string; on a problem the value has every bad reference replaced by "". `unset` says
 * the only problems are unset variables (the syntax is right).
 */
export function expandString(
  text: string,
  env: Environment,
): { value: string; problem: string | null; unset: boolean } {
  let problem: string | null = null;
  let syntax = false;
  const value = text.replace(REFERENCE, (match, inner: string | undefined) => {
    if (match === "$$") return "$";
    if (inner !== undefined && STEP_VALUE.test(inner)) return match;
    if (inner === undefined) {
      problem ??= `unterminated "\${": write \${NAME}, \${NAME:-default}, or $$ for a literal $`;
      syntax = true;
      return "";
    }
    const split = inner.indexOf(":-");
    const name = split === -1 ? inner : inner.slice(0, split);
    if (!NAME.test(name)) {
      problem ??= `invalid variable reference "\${${name}}": a name is letters, digits and _`;
      syntax = true;
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
  return { value, problem, unset: problem !== null && !syntax };
}

/** The non-empty values the environment gives the references in `text`; null when it references none. */
export function environmentValuesIn(text: string, env: Environment): string[] | null {
  let referenced = false;
  const values: string[] = [];
  for (const match of text.matchAll(REFERENCE)) {
    if (match[0] === "$$" || STEP_VALUE.test(match[1] ?? "")) continue;
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
