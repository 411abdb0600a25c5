import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import type { FlowProbeSpec, FlowStep, SloConfig } from "../model/config.js";
import { DIAGNOSTIC_CATEGORY } from "../model/result.js";
import { redactSecrets, Secret, secretForms } from "../model/secret.js";
import { RUN_ONLY_STAND_IN } from "./run-only.js";

/**
 * Keys left out of the fingerprint: where files are on this machine (moving a data directory
 * changes no figure), which TSA timestamps statements, and which header values are secret (their
 * values already say "[secret]").
 */
const MACHINE_LOCAL = new Set([
  "file",
  "dataDir",
  "source",
  "secretHeaders",
  "signingKeyFile",
  "tsaUrl",
  "tsaCaFile",
  "regions",
  "environmentValues",
  "secretEnvironmentValues",
  "bodyFromEnvironment",
]);

/** Stands in for every credential: the fingerprint must not become an oracle for a secret. */
const SECRET = "[secret]";

/**
 * The effective configuration as plain JSON data: Maps become objects, Sets arrays, every Secret
 * "[secret]", machine-local paths dropped, and every form of a value from the environment
 * (secretForms) "[redacted]" wherever it stands, whichever file it was written in -- a token in a
 * webhook's or the collector's URL, or in a probe's query (`path: "/get?token=${K}"`, in slo.yaml
 * or a probe file), would otherwise be hash-chained into the evidence log. What `config_sha256`
 * is computed over.
 */
export function effectiveConfiguration(config: SloConfig): unknown {
  return plain(config, secretForms(environmentValuesOf(config)));
}

/** Every value the environment put into the configuration: slo.yaml's, and each probe file's. */
function environmentValuesOf(config: SloConfig): string[] {
  const values = new Set<string>();
  const add = (list: readonly Secret[] | undefined) => {
    for (const value of list ?? []) values.add(value.reveal());
  };
  add(config.environmentValues);
  for (const target of config.targets.values()) add(target.environmentValues);
  for (const probe of config.probes) add(probe.environmentValues);
  return [...values];
}

/** SHA-256 (hex) of the RFC 8785 (JCS) form of effectiveConfiguration(config). */
export function configSha256(config: SloConfig): string {
  const text = canonicalize(effectiveConfiguration(config)) ?? "";
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function plain(value: unknown, forms: readonly string[] = []): unknown {
  if (value instanceof Secret) return SECRET;
  if (typeof value === "string") return forms.length === 0 ? value : redactSecrets(value, forms);
  if (value === null || typeof value !== "object") return typeof value === "function" ? undefined : value;
  if (Array.isArray(value)) return value.map((item) => plain(item, forms));
  if (value instanceof Set) return [...value].map((item) => plain(item, forms));
  if ((value as { kind?: unknown }).kind === "flow") return plainFlow(value as FlowProbeSpec, forms);
  return plainObject(value, forms);
}

function plainObject(value: object, forms: readonly string[]): unknown {
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  // A probe body holding a value from the environment is a secret whether or not it is set.
  const secretBody = (value as { bodyFromEnvironment?: unknown }).bodyFromEnvironment === true;
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    if (MACHINE_LOCAL.has(String(key)) || item === undefined) continue;
    out[String(key)] = secretBody && key === "body" ? SECRET : plain(item, forms);
  }
  return out;
}

/**
 * A flow whose steps hold values from the environment: each value (and its encodings) is redacted
 * wherever it stands, and a step body holding one is "[secret]" whether the variable is set (run)
 * or stood in for (report), as a probe body from the environment is.
 */
function plainFlow(flow: FlowProbeSpec, outer: readonly string[]): unknown {
  const values = secretForms((flow.environmentValues ?? []).map((v) => v.reveal()));
  const forms = [...outer, ...values];
  const secret = (body: string | null) =>
    body !== null && (body.includes(RUN_ONLY_STAND_IN) || values.some((v) => v !== "" && body.includes(v)));
  const step = (s: FlowStep) => (secret(s.body) ? { ...s, body: SECRET } : s);
  const { steps, finally: cleanup, ...rest } = flow;
  return plainObject({ ...rest, steps: steps.map(step), finally: cleanup.map(step) }, forms);
}

/**
 * SHA-256 (hex) of the JCS form of what the SLA figures depend on: service classes, categories,
 * maintenance, exclusions, credits and each probe's category and timeout (controls are left out:
 * each agent judges its own results against its own controls). Agents in
 * different regions (other targets, listen address, identity) that agree on it report the same
 * SLA: `report --from-agents` merges only those.
 */
export function slaConfigSha256(config: SloConfig): string {
  const sla = {
    service_classes: config.serviceClasses,
    categories: config.categories,
    maintenance: config.maintenance,
    exclusions: config.exclusions,
    sla: config.sla,
    // Diagnostic probes (tls, dns, tcp) never enter a figure, so they never tell two SLAs apart.
    probes: [...config.probes]
      .filter((p) => p.category !== DIAGNOSTIC_CATEGORY)
      .map((p) => ({ id: p.id, category: p.category, timeout_ms: p.timeoutMs }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
  const text = canonicalize(plain(sla)) ?? "";
  return createHash("sha256").update(text, "utf8").digest("hex");
}
