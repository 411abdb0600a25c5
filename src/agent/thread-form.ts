import { Secret } from "../model/secret.js";

/**
 * Probe specs and targets cross to the prober's thread by structured clone, which keeps Maps but
 * not classes: a Secret (its value in a private field) would arrive empty. It crosses as a tagged
 * object and is a Secret again on the other side; it never leaves the process.
 */
const SECRET_TAG = "__slo_agent_secret__";

export function toThreadForm(value: unknown): unknown {
  if (value instanceof Secret) return { [SECRET_TAG]: value.reveal() };
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, toThreadForm(v)]));
  if (Array.isArray(value)) return value.map(toThreadForm);
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toThreadForm(v)]));
  }
  return value;
}

export function fromThreadForm<T>(value: unknown): T {
  return revive(value) as T;
}

function revive(value: unknown): unknown {
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, revive(v)]));
  if (Array.isArray(value)) return value.map(revive);
  if (isPlainObject(value)) {
    const secret = (value as Record<string, unknown>)[SECRET_TAG];
    if (typeof secret === "string" && Object.keys(value).length === 1) return new Secret(secret);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

function isPlainObject(value: unknown): value is object {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
