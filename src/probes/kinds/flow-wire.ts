import * as z from "zod";
import { PLACEHOLDER } from "./flow.js";
import { parseJsonPath } from "./json-path.js";

/*
 * The configuration keys of `kind: flow` (src/config/wire.ts puts them in the probe union). Apart
 * from the probe itself (flow.ts) so that the prober thread never loads zod.
 */

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
const READS: ReadonlySet<string> = new Set(["GET", "HEAD"]);
const STEP_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

// Spelled in two parts: one literal "${steps...}" reads to the linter like a template-literal slip.
const STEP_VALUE = "$" + "{steps.<id>.<name>}";

const stepWire = z.strictObject({
  id: z
    .string()
    .regex(STEP_ID, "must be letters, digits, '-' or '_'")
    .describe("Step id, unique in the flow."),
  method: z.enum(METHODS).default("GET").describe("HTTP method."),
  path: z.string().startsWith("/", 'must start with "/"').describe(`Path and query; may hold ${STEP_VALUE}.`),
  body: z
    .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())])
    .optional()
    .describe(`Request body: a string, or a mapping/list sent as JSON; may hold ${STEP_VALUE}.`),
  category: z
    .string()
    .min(1, "must not be empty")
    .optional()
    .describe("The step's category (default: the flow's)."),
  extract: z
    .record(
      z.string().regex(/^[A-Za-z0-9_]+$/, "must be letters, digits or '_'"),
      z
        .string()
        .refine(
          (p) => parseJsonPath(p) !== null,
          'must be a JSONPath like "$.session_id" or "$.items[0].id"',
        ),
    )
    .default({})
    .describe("Values read from the JSON response, name -> JSONPath, for later steps."),
});
export type StepWire = z.output<typeof stepWire>;

/** The keys of a `kind: flow` probe besides the common ones (id, category, target, every, ...). */
export const flowFields = {
  steps: z
    .array(stepWire)
    .min(1, "must list at least one step")
    .describe("(flow) The steps, run in order; the flow stops at the first that fails."),
  finally: z
    .array(stepWire)
    .default([])
    .describe("(flow) Cleanup steps, run after the steps whether they failed or not."),
  max_body_bytes: z
    .number()
    .int()
    .positive("must be > 0")
    .default(1_048_576)
    .describe("(flow) Response body bytes read at most per step."),
};

/**
 * Flow-wide checks: unique step ids, references only to values an earlier step extracts, and
 * `writes: true` declared when any step may write (the safe-probe rule then refuses production).
 */
export function flowProblems(flow: {
  steps: readonly StepWire[];
  finally: readonly StepWire[];
  writes: boolean;
}): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const extracted = new Map<string, ReadonlySet<string>>();
  const check = (list: "steps" | "finally", step: StepWire, i: number) => {
    if (extracted.has(step.id))
      problems.push({ path: [list, i, "id"], message: `duplicate step id "${step.id}"` });
    const texts = [step.path, typeof step.body === "string" ? step.body : JSON.stringify(step.body ?? null)];
    for (const text of texts) {
      for (const [, from, name] of text.matchAll(PLACEHOLDER)) {
        if (!extracted.get(from!)?.has(name!))
          problems.push({
            path: [list, i],
            message: `\${steps.${from}.${name}}: no earlier step extracts "${name}" as step "${from}"`,
          });
      }
    }
    if (!READS.has(step.method) && !flow.writes)
      problems.push({
        path: [list, i, "method"],
        message: `a ${step.method} step needs writes: true on the flow`,
      });
    extracted.set(step.id, new Set(Object.keys(step.extract)));
  };
  for (const [i, step] of flow.steps.entries()) check("steps", step, i);
  for (const [i, step] of flow.finally.entries()) check("finally", step, i);
  return problems;
}
