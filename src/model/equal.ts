import { Secret } from "./secret.js";

/**
 * Structural equality of configuration values: plain objects, arrays, Maps, Sets and Secrets
 * (compared by value, which never leaves this function). A reload keeps what compares equal.
 */
export function structurallyEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Secret || b instanceof Secret) {
    return a instanceof Secret && b instanceof Secret && a.reveal() === b.reveal();
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [key, value] of a) if (!b.has(key) || !structurallyEqual(value, b.get(key))) return false;
    return true;
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false;
    for (const value of a) if (!b.has(value)) return false;
    return true;
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  const recordB = b as Record<string, unknown>;
  const recordA = a as Record<string, unknown>;
  return keysA.every((key) => Object.hasOwn(recordB, key) && structurallyEqual(recordA[key], recordB[key]));
}

/** Two probe specs that differ only in where they were declared run the same probe. */
export function sameProbe<T extends { readonly source?: unknown }>(a: T, b: T): boolean {
  const { source: _a, ...restA } = a;
  const { source: _b, ...restB } = b;
  return structurallyEqual(restA, restB);
}
