import type { StandIn } from "./env.js";
import type { FieldPath } from "./source.js";

/**
 * What a command that never probes nor delivers (report, verify, evidence, rules, dashboards)
 * does with a value only `run` uses -- the targets' credentials and headers, probe headers and
 * bodies, the admin, API and traffic tokens, the OTLP push headers, the receivers' secrets -- whose
 * variable is unset: it holds a stand-in, so a finance job that builds the report needs no
 * webhook secret. Every stand-in field is a Secret in the model, so the configuration's
 * fingerprint does not change with it; `check-config` and `run` still require the values.
 */
export const RUN_ONLY_STAND_IN = "(not set: used only by run)";
/** A stand-in that passes the URL check of a Slack receiver's url (a Secret too). */
const RUN_ONLY_URL = "https://run-only.invalid/";

/** slo.yaml (as parsed, before expansion): the stand-in for each run-only field. */
export function sloRunOnly(data: unknown): StandIn {
  return (path) => sloStandIn(path, data);
}

function sloStandIn(path: FieldPath, data: unknown): string | undefined {
  const [top, second, third] = path;
  if (top === "targets") return third === "auth" || third === "headers" ? RUN_ONLY_STAND_IN : undefined;
  if (top === "agent") {
    if (second === "admin_token" || second === "api_token") return RUN_ONLY_STAND_IN;
    return second === "otlp" && third === "headers" ? RUN_ONLY_STAND_IN : undefined;
  }
  if (top === "traffic" && second === "token") return RUN_ONLY_STAND_IN;
  if (top === "alerting" && second === "receivers") {
    if (path[3] === "secret") return RUN_ONLY_STAND_IN;
    // Only a Slack URL is a secret; an Alertmanager or webhook URL is configuration like any other.
    return path[3] === "url" && receiverType(data, third) === "slack" ? RUN_ONLY_URL : undefined;
  }
  return top === "probes" ? probeRunOnly(path.slice(2)) : undefined;
}

/** A probe file (a list of probes): headers and body are run-only. */
export const probeFileRunOnly: StandIn = (path) => probeRunOnly(path.slice(1));

/** Within one probe: its headers and body, and the headers and body of each of a flow's steps. */
function probeRunOnly([field, index, stepField]: FieldPath): string | undefined {
  if (field === "headers" || field === "body") return RUN_ONLY_STAND_IN;
  const inStep = (field === "steps" || field === "finally") && typeof index === "number";
  return inStep && (stepField === "body" || stepField === "headers") ? RUN_ONLY_STAND_IN : undefined;
}

function receiverType(data: unknown, index: string | number | undefined): unknown {
  const receivers = (data as { alerting?: { receivers?: unknown } } | null)?.alerting?.receivers;
  if (!Array.isArray(receivers) || typeof index !== "number") return undefined;
  return (receivers[index] as { type?: unknown } | null)?.type;
}
