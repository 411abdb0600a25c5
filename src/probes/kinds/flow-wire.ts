import * as z from "zod";
import { headerProblem } from "../../config/values.js";
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
const ENV_VALUE = "$" + "{NAME}";

const headerMap = z.record(z.string(), z.string()).superRefine((map, ctx) => {
  for (const [name, value] of Object.entries(map)) {
    const problem = headerProblem(name, value);
    if (problem) ctx.addIssue({ code: "custom", path: [name], message: problem });
  }
});

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
  body_file: z
    .string()
    .min(1, "must not be empty")
    .optional()
    .describe(
      `File holding the request body, relative to the file that declares the probe (instead of body; a .json file is sent as JSON); may hold ${STEP_VALUE}.`,
    ),
  headers: headerMap
    .default({})
    .describe(
      `Request headers of this step, over the flow's and the target's (values may use ${ENV_VALUE} and ${STEP_VALUE}; a value from the environment, or of a credential header, is a secret).`,
    ),
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
  headers: headerMap
    .default({})
    .describe("(flow) Request headers of every step, over the target's (secrets as in a probe's headers)."),
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
    if (step.body !== undefined && step.body_file !== undefined)
      problems.push({ path: [list, i, "body_file"], message: "give either body or body_file, not both" });
    const texts = [
      step.path,
      typeof step.body === "string" ? step.body : JSON.stringify(step.body ?? null),
      ...Object.values(step.headers),
    ];
    for (const message of unknownStepValues(texts, extracted)) problems.push({ path: [list, i], message });
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

/** The values each step extracts, by step id. */
type Extracted = ReadonlyMap<string, ReadonlySet<string>>;

/** A message for each `${steps.x.y}` in `texts` that no step in `extracted` provides. */
export function unknownStepValues(texts: readonly string[], extracted: Extracted): string[] {
  const messages: string[] = [];
  for (const text of texts) {
    for (const [, from, name] of text.matchAll(PLACEHOLDER)) {
      if (!extracted.get(from!)?.has(name!))
        messages.push(`\${steps.${from}.${name}}: no earlier step extracts "${name}" as step "${from}"`);
    }
  }
  return messages;
}

/** What the steps before step `i` of `list` extract (a finally step sees every step's values). */
export function extractedBefore(
  flow: { steps: readonly StepWire[]; finally: readonly StepWire[] },
  list: "steps" | "finally",
  i: number,
): Extracted {
  const before = list === "steps" ? flow.steps.slice(0, i) : [...flow.steps, ...flow.finally.slice(0, i)];
  return new Map(before.map((s) => [s.id, new Set(Object.keys(s.extract))]));
}
