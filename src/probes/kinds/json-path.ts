/**
 * The JSONPath subset a flow's `extract` uses: `$`, then `.name` and `[index]` steps
 * (`$.session_id`, `$.order_lines[0].reference`). Anything else is refused when the
 * configuration is loaded, not at run time.
 */
const STEP = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]/gy;

/** The steps of a path, or null when it is not in the subset. */
export function parseJsonPath(path: string): (string | number)[] | null {
  if (!path.startsWith("$")) return null;
  const steps: (string | number)[] = [];
  STEP.lastIndex = 1;
  while (STEP.lastIndex < path.length) {
    const at = STEP.lastIndex;
    const match = STEP.exec(path);
    if (!match || match.index !== at) return null;
    steps.push(match[1] ?? Number(match[2]));
  }
  return steps;
}

/** The scalar at `path` in `value` as text, or null when there is none (objects are not values). */
export function valueAtJsonPath(value: unknown, path: string): string | null {
  const steps = parseJsonPath(path);
  if (steps === null) return null;
  let node = value;
  for (const step of steps) {
    if (node === null || typeof node !== "object") return null;
    if (typeof step === "number" ? !Array.isArray(node) : !Object.hasOwn(node, step)) return null;
    node = (node as Record<string | number, unknown>)[step];
  }
  if (typeof node === "string") return node;
  if (typeof node === "number" || typeof node === "boolean") return String(node);
  return null;
}
