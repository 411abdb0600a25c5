import type { FieldPath } from "./source.js";

export type Environment = Readonly<Record<string, string | undefined>>;

/** A reference that could not be expanded; it names the variable, never a value. */
export interface ExpansionProblem {
  readonly path: FieldPath;
  readonly message: string;
}

/**
 * Expands `${NAME}` and `${NAME:-default}` in every string value of a parsed document (keys are
 * left alone); `$$` is a literal `$`. Like the shell, `:-` also applies when NAME is set but empty.
 */
export function expandEnvironment(
  data: unknown,
  env: Environment,
): { value: unknown; problems: ExpansionProblem[] } {
  const problems: ExpansionProblem[] = [];
  const walk = (node: unknown, path: FieldPath): unknown => {
    if (typeof node === "string") {
      const result = expandString(node, env);
      if (result.problem) problems.push({ path, message: result.problem });
      return result.value;
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  return { value: walk(data, []), problems };
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
    const found = env[name];
    if (split !== -1) return found === undefined || found === "" ? inner.slice(split + 2) : found;
    if (found === undefined) {
      problem ??= `environment variable ${name} is not set (write \${${name}:-default} for a default)`;
      return "";
    }
    return found;
  });
  return { value, problem };
}
