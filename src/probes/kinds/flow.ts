import { randomUUID } from "node:crypto";
import {
  type FlowProbeSpec,
  type FlowStep,
  flowStepProbeId,
  type HttpProbeSpec,
  type ProbeSpecBase,
} from "../../model/config.js";
import type { ProbeResult } from "../../model/result.js";
import type { CompositeContext, CompositeProbe } from "../probe.js";
import type { StepWire } from "./flow-wire.js";
import { valueAtJsonPath } from "./json-path.js";

/** `${steps.<step>.<name>}`: a value an earlier step extracted. */
export const PLACEHOLDER = /\$\{steps\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)\}/g;

export function flowSpecOf(
  wire: { steps: readonly StepWire[]; finally: readonly StepWire[]; max_body_bytes: number; target: string },
  base: ProbeSpecBase,
): FlowProbeSpec {
  const stepOf = (s: StepWire): FlowStep => ({
    id: s.id,
    category: s.category ?? base.category,
    method: s.method,
    path: s.path,
    body: s.body === undefined ? null : typeof s.body === "string" ? s.body : JSON.stringify(s.body),
    extract: s.extract,
  });
  return {
    ...base,
    kind: "flow",
    target: wire.target,
    steps: wire.steps.map(stepOf),
    finally: wire.finally.map(stepOf),
    maxBodyBytes: wire.max_body_bytes,
  };
}

/** Why a step stopped its flow: no 2xx/3xx answer, or an `extract` that found nothing. */
type StepFailure = "no_success" | "extract";

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
    let parts = 0;
    for (const step of spec.steps) {
      if (failed !== null || ctx.signal.aborted) {
        notRun.push(step.id);
        continue;
      }
      const why = await runStep(spec, step, flowRun, values, ctx);
      if (why !== null) failed = { part: parts, step: step.id, why };
      parts++;
    }
    for (const step of spec.finally) {
      if (ctx.signal.aborted || !resolvable(step, values)) {
        notRun.push(step.id);
        continue;
      }
      await runStep(spec, step, flowRun, values, ctx);
      parts++;
    }
    return {
      failedPart: failed?.part ?? null,
      summary: {
        flow_steps: parts,
        ...(failed ? { failed_step: failed.step, step_failure: failed.why } : {}),
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
): Promise<StepFailure | null> {
  const fill = (text: string) =>
    text.replace(PLACEHOLDER, (_, from: string, name: string) =>
      encodeURIComponent(values.get(from)?.[name] ?? ""),
    );
  const fillBody = (text: string) =>
    text.replace(PLACEHOLDER, (_, from: string, name: string) => jsonInner(values.get(from)?.[name] ?? ""));
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
    headers: {},
    body: step.body === null ? null : fillBody(step.body),
    followRedirects: 0,
    maxBodyBytes: flow.maxBodyBytes,
    ...(flow.environmentValues ? { environmentValues: flow.environmentValues } : {}),
  };
  const observed = { flow: flow.id, flow_run: flowRun, step: step.id };
  const { result, body } = await ctx.part({ spec, observed });
  if (!answered(result)) return "no_success";
  const names = Object.entries(step.extract);
  if (names.length === 0) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    return "extract";
  }
  const found: Record<string, string> = {};
  for (const [name, path] of names) {
    const value = valueAtJsonPath(json, path);
    if (value === null) return "extract";
    found[name] = value;
  }
  values.set(step.id, found);
  return null;
}

function answered(result: ProbeResult): boolean {
  return result.status !== null && result.status < 400 && !result.bodyError;
}

function resolvable(step: FlowStep, values: Map<string, Record<string, string>>): boolean {
  const texts = [step.path, step.body ?? ""];
  return texts.every((t) =>
    [...t.matchAll(PLACEHOLDER)].every(([, from, name]) => values.get(from!)?.[name!] !== undefined),
  );
}

/** A value inside a JSON string literal, escaped as JSON escapes it. */
function jsonInner(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}
