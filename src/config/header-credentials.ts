// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages show the user the ${NAME} syntax.
import { Secret } from "../model/secret.js";
import { type Expansion, pathKey } from "./env.js";
import type { ConfigProblem } from "./problems.js";
import type { FieldPath, YamlSource } from "./source.js";

/** Header names whose value is a credential however it is written. */
const CREDENTIAL_NAME = /^(?:authorization|proxy-authorization|cookie)$|api[-_]?key|token|secret/i;

export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_NAME.test(name);
}

/** Where one document keeps request headers and request bodies. */
export interface HeaderPlaces {
  readonly headers: readonly FieldPath[];
  readonly bodies: readonly FieldPath[];
}

export interface HeaderCredentials {
  /** Text no problem or warning may repeat. */
  readonly values: readonly string[];
  /** pathKey() of every header value the model holds as a Secret. */
  readonly secret: ReadonlySet<string>;
  readonly warnings: readonly ConfigProblem[];
}

/**
 * The credentials among one document's headers: a value taken from the environment, or any value
 * of a header named like a credential. Environment values inside a body are kept out of messages too.
 */
export function headerCredentials(
  source: YamlSource,
  expansion: Expansion,
  places: HeaderPlaces,
): HeaderCredentials {
  const values = new Set<string>();
  const secret = new Set<string>();
  const warnings: ConfigProblem[] = [];
  for (const at of places.headers) {
    for (const [name, value] of Object.entries(mappingAt(expansion.value, at))) {
      const path = [...at, name];
      const fromEnvironment = expansion.references.get(pathKey(path));
      if (typeof value !== "string" || (!fromEnvironment && !isCredentialHeader(name))) continue;
      secret.add(pathKey(path));
      for (const part of credentialParts(value, fromEnvironment)) values.add(part);
      if (!fromEnvironment && value !== "") {
        const message = `header ${name} holds an inline credential: put it in the environment and write "\${NAME}" here`;
        warnings.push(source.problem(path, message));
      }
    }
  }
  for (const at of places.bodies) {
    const inside = pathKey(at);
    for (const [key, given] of expansion.references) {
      if (key === inside || key.startsWith(`${inside}\0`)) for (const v of given) values.add(v);
    }
  }
  values.delete("");
  return { values: [...values], secret, warnings };
}

/** The whole value, each environment value in it, and what follows a scheme ("Bearer abc" -> "abc"). */
function credentialParts(value: string, fromEnvironment: readonly string[] | undefined): string[] {
  const afterScheme = /^[A-Za-z][\w-]*\s+(\S.*)$/.exec(value)?.[1];
  return [value, ...(fromEnvironment ?? []), ...(afterScheme === undefined ? [] : [afterScheme])];
}

/** Header values as the model holds them: the credentials as Secrets, the rest as written. */
export function headerValues(
  headers: Readonly<Record<string, string>>,
  at: FieldPath,
  secret: ReadonlySet<string>,
): Record<string, string | Secret> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      secret.has(pathKey([...at, name])) ? new Secret(value) : value,
    ]),
  );
}

/** Where slo.yaml keeps headers and bodies (targets, OTLP push, inline probes). */
export function sloHeaderPlaces(data: unknown): HeaderPlaces {
  const targets = Object.keys(mappingAt(data, ["targets"])).map((id) => ["targets", id, "headers"]);
  const probes = probePlaces(data, ["probes"]);
  return { headers: [["agent", "otlp", "headers"], ...targets, ...probes.headers], bodies: probes.bodies };
}

/** Where a probe file (a top-level list of probes) keeps headers and bodies. */
export function probeFileHeaderPlaces(data: unknown): HeaderPlaces {
  return probePlaces(data, []);
}

/** Each probe's headers and body in the list at `at`, and those of each of a flow's steps. */
function probePlaces(data: unknown, at: FieldPath): HeaderPlaces {
  const list = at.length === 0 ? data : mappingAt(data, [])[String(at[0])];
  const headers: FieldPath[] = [];
  const bodies: FieldPath[] = [];
  for (const [i, probe] of (Array.isArray(list) ? list : []).entries()) {
    const places = [[...at, i]];
    for (const steps of ["steps", "finally"]) {
      const given = isMapping(probe) ? probe[steps] : undefined;
      for (const j of Array.isArray(given) ? given.keys() : []) places.push([...at, i, steps, j]);
    }
    headers.push(...places.map((p) => [...p, "headers"]));
    bodies.push(...places.map((p) => [...p, "body"]));
  }
  return { headers, bodies };
}

function mappingAt(data: unknown, path: FieldPath): Record<string, unknown> {
  let node = data;
  for (const segment of path) {
    node = isMapping(node) || Array.isArray(node) ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return isMapping(node) ? node : {};
}

function isMapping(node: unknown): node is Record<string, unknown> {
  return node !== null && typeof node === "object" && !Array.isArray(node);
}
