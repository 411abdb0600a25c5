import { randomUUID } from "node:crypto";
import {
  type FlowProbeSpec,
  type FlowStep,
  flowStepProbeId,
  type HttpProbeSpec,
  type ProbeSpecBase,
} from "../../model/config.js";
import type { ProbeResult } from "../../model/result.js";
import { Secret } from "../../model/secret.js";
import type { CompositeContext, CompositeProbe, HeldBack } from "../probe.js";
import type { StepWire } from "./flow-wire.js";
import { valueAtJsonPath } from "./json-path.js";

/** `${steps.<step>.<name>}`: a value an earlier step extracted. */
export const PLACEHOLDER = /\$\{steps\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)\}/g;

/** What the loader found beside a flow's wire form. */
export interface FlowSources {
  /** Whether the header at `path` in the probe (["headers", name], ["steps", 0, "headers", name]) is a credential. */
  readonly secretHeader: (path: readonly (string | number)[]) => boolean;
  /** What a step's body_file held, read when the configuration was loaded. */
  readonly bodyFile: (list: "steps" | "finally", index: number) => string | undefined;
}

export function flowSpecOf(
  wire: {
    steps: readonly StepWire[];
    finally: readonly StepWire[];
    headers: Readonly<Record<string, string>>;
    max_body_bytes: number;
    target: string;
  },
  base: ProbeSpecBase,
  sources: FlowSources,
): FlowProbeSpec {
  const held = (at: (string | number)[], headers: Readonly<Record<string, string>>) =>
    Object.entries(headers).map(([name, value]) => [
      name,
      sources.secretHeader([...at, name]) ? new Secret(value) : value,
    ]);
  const flowHeaders = held(["headers"], wire.headers);
  const stepOf = (list: "steps" | "finally") => (s: StepWire, i: number) => {
    const body = s.body === undefined ? null : typeof s.body === "string" ? s.body : JSON.stringify(s.body);
    return {
      id: s.id,
      category: s.category ?? base.category,
      method: s.method,
      path: s.path,
      headers: Object.fromEntries([...flowHeaders, ...held([list, i, "headers"], s.headers)]),
      body: s.body_file === undefined ? body : (sources.bodyFile(list, i) ?? null),
      extract: s.extract,
    } satisfies FlowStep;
  };
  return {
    ...base,
    kind: "flow",
    target: wire.target,
    steps: wire.steps.map(stepOf("steps")),
    finally: wire.finally.map(stepOf("finally")),
    maxBodyBytes: wire.max_body_bytes,
  };
}

/** Why a step stopped its flow: no 2xx/3xx answer, or an `extract` that found nothing. */
type StepFailure = "no_success" | "extract";

/** What became of one step: it went well, it failed, or it was not sent (the target's pause or rate cap). */
type StepOutcome = { failure: StepFailure | null } | { held: HeldBack };

/**
 * Runs the steps in order, each one result with the flow's run id; stops at the first that gets
 * no 2xx/3xx answer (or whose extraction finds nothing): the later steps are not run and not
 * recorded, so they never count against the provider. Then the `finally` steps whose values exist.
 */
export const flowProbe: CompositeProbe<FlowProbeSpec> = {
  kind: "flow",
  composite: true,
  async run(spec, ctx) {
    const flowRun = randomUUID();
    const values = new Map<string, Record<string, string>>();
    const notRun: string[] = [];
    let failed: { part: number; step: string; why: StepFailure } | null = null;
    let held: { step: string; why: HeldBack } | null = null;
    let parts = 0;
    for (const step of spec.steps) {
      if (failed !== null || held !== null || ctx.signal.aborted) {
        notRun.push(step.id);
        continue;
      }
      const outcome = await runStep(spec, step, flowRun, values, ctx);
      if ("held" in outcome) {
        // Not sent, so nothing the provider did: the flow stops without a failure.
        held = { step: step.id, why: outcome.held };
        notRun.push(step.id);
        continue;
      }
      if (outcome.failure !== null) failed = { part: parts, step: step.id, why: outcome.failure };
      parts++;
    }
    for (const step of spec.finally) {
      if (ctx.signal.aborted || !resolvable(step, values)) {
        notRun.push(step.id);
        continue;
      }
      // Cleanup asks for its own slot even after a step was held back: what was created should go.
      const outcome = await runStep(spec, step, flowRun, values, ctx);
      if ("held" in outcome) notRun.push(step.id);
      else parts++;
    }
    return {
      failedPart: failed?.part ?? null,
      summary: {
        flow_steps: parts,
        ...(failed ? { failed_step: failed.step, step_failure: failed.why } : {}),
        ...(held ? { held_step: held.step, held_back: held.why } : {}),
        ...(notRun.length > 0 ? { not_run: notRun } : {}),
      },
    };
  },
};

async function runStep(
  flow: FlowProbeSpec,
  step: FlowStep,
  flowRun: string,
  values: Map<string, Record<string, string>>,
  ctx: CompositeContext,
): Promise<StepOutcome> {
  const fill = (text: string) =>
    text.replace(PLACEHOLDER, (_, from: string, name: string) =>
      encodeURIComponent(values.get(from)?.[name] ?? ""),
    );
  const fillBody = (text: string) =>
    text.replace(PLACEHOLDER, (_, from: string, name: string) => jsonInner(values.get(from)?.[name] ?? ""));
  // A header value is sent as it was extracted; one a header cannot hold fails the step's request.
  const fillHeader = (text: string) =>
    text.replace(PLACEHOLDER, (_, from: string, name: string) => values.get(from)?.[name] ?? "");
  const headers = Object.fromEntries(
    Object.entries(step.headers).map(([name, value]) => [
      name,
      typeof value === "string" ? fillHeader(value) : new Secret(fillHeader(value.reveal())),
    ]),
  );
  const spec: HttpProbeSpec = {
    kind: "http",
    id: flowStepProbeId(flow.id, step.id),
    category: step.category,
    target: flow.target,
    schedule: flow.schedule,
    timeoutMs: flow.timeoutMs,
    writes: flow.writes,
    source: flow.source,
    method: step.method,
    path: fill(step.path),
    headers,
    body: step.body === null ? null : fillBody(step.body),
    followRedirects: 0,
    maxBodyBytes: flow.maxBodyBytes,
    ...(flow.environmentValues ? { environmentValues: flow.environmentValues } : {}),
  };
  const observed = { flow: flow.id, flow_run: flowRun, step: step.id };
  const part = await ctx.part({ spec, observed });
  if ("held" in part) return part;
  if (!answered(part.result)) return { failure: "no_success" };
  const found = extracted(step, part.body);
  if (found === null) return { failure: "extract" };
  values.set(step.id, found);
  return { failure: null };
}

/** The step's `extract` values from a JSON body; null when one is missing (or the body is no JSON). */
function extracted(step: FlowStep, body: Uint8Array): Record<string, string> | null {
  const names = Object.entries(step.extract);
  if (names.length === 0) return {};
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    return null;
  }
  const found: Record<string, string> = {};
  for (const [name, path] of names) {
    const value = valueAtJsonPath(json, path);
    if (value === null) return null;
    found[name] = value;
  }
  return found;
}

function answered(result: ProbeResult): boolean {
  return result.status !== null && result.status < 400 && !result.bodyError;
}

function resolvable(step: FlowStep, values: Map<string, Record<string, string>>): boolean {
  const headers = Object.values(step.headers).map((v) => (typeof v === "string" ? v : v.reveal()));
  const texts = [step.path, step.body ?? "", ...headers];
  return texts.every((t) =>
    [...t.matchAll(PLACEHOLDER)].every(([, from, name]) => values.get(from!)?.[name!] !== undefined),
  );
}

/** A value inside a JSON string literal, escaped as JSON escapes it. */
function jsonInner(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}
