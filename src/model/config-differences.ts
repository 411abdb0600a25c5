/**
 * Where two configurations in their plain form (config/fingerprint.ts effectiveConfiguration, as
 * the evidence log's configuration records hold it) differ in what decides a figure or a verdict:
 * objectives, targets, categories and service classes, credits, exclusions, controls, declared
 * maintenance windows, and each probe's category, timeout and schedule. A report given an edited slo.yaml
 * names these (issue 23); other settings (targets, receivers, listen addresses) change no figure
 * and are not listed, nor is the maintenance policy (the month is judged by the logged one, and
 * a given one the log does not hold is its own warning: src/reports/warnings.ts policyWarnings).
 */

export interface ConfigDifference {
  /** The setting, in slo.yaml's snake_case: `categories.payment_request.latency_p99_ms`. */
  readonly path: string;
  readonly given: unknown;
  readonly logged: unknown;
}

/** The sections of the plain form that decide figures, as key paths. */
const FIGURE_SECTIONS: readonly (readonly string[])[] = [
  ["serviceClasses"],
  ["categories"],
  ["sla"],
  ["exclusions"],
  ["controls"],
  ["maintenance", "windows"],
];

export function figureDifferences(given: unknown, logged: unknown): ConfigDifference[] {
  // Every configuration the agent loads has categories: a record without is no configuration to compare with.
  if (!isObject(at(logged, ["categories"]))) return [];
  const out: ConfigDifference[] = [];
  for (const section of FIGURE_SECTIONS) {
    compare(at(given, section), at(logged, section), section.map(snakeCase).join("."), out);
  }
  compare(probeTerms(given), probeTerms(logged), "probes", out);
  return out;
}

/** One difference as a phrase: `categories.payment_request.latency_p99_ms: report 1, log 150`. */
export function differenceText(d: ConfigDifference, givenLabel: string): string {
  return `${d.path}: ${givenLabel} ${shown(d.given)}, log ${shown(d.logged)}`;
}

/** One change between two configuration records as a phrase: `categories.payment_request.latency_p99_ms 150 → 1`. */
export function changeText(d: ConfigDifference): string {
  return `${d.path} ${shown(d.logged)} → ${shown(d.given)}`;
}

/**
 * What of a probe decides figures: its category, its timeout (a timeout counts at it) and its
 * schedule (`every:` / `schedule:`), which sets the results a month should have (coverage), how
 * far apart two of them may be before an imported result between them counts as interleaved, and
 * how near two failures merge into one incident.
 */
function probeTerms(config: unknown): unknown {
  const probes = at(config, ["probes"]);
  if (!Array.isArray(probes)) return probes;
  return probes.map((p) => ({
    id: at(p, ["id"]),
    category: at(p, ["category"]),
    timeoutMs: at(p, ["timeoutMs"]),
    schedule: at(p, ["schedule"]),
  }));
}

function at(value: unknown, path: readonly string[]): unknown {
  let here = value;
  for (const key of path) {
    if (!isObject(here)) return undefined;
    here = here[key];
  }
  return here;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Lists of things with ids (windows, exclusions, probes) are compared by id, others by position. */
function keyed(list: readonly unknown[]): Map<string, unknown> | null {
  const map = new Map<string, unknown>();
  for (const item of list) {
    const id = at(item, ["id"]);
    if (typeof id !== "string" || map.has(id)) return null;
    map.set(id, item);
  }
  return map;
}

function compare(given: unknown, logged: unknown, path: string, out: ConfigDifference[]): void {
  if (isObject(given) && isObject(logged)) {
    const keys = [...new Set([...Object.keys(given), ...Object.keys(logged)])].sort();
    for (const key of keys) compare(given[key], logged[key], `${path}.${snakeCase(key)}`, out);
    return;
  }
  if (Array.isArray(given) && Array.isArray(logged)) {
    const a = keyed(given);
    const b = keyed(logged);
    if (a && b) {
      const ids = [...new Set([...a.keys(), ...b.keys()])].sort();
      for (const id of ids) compare(a.get(id), b.get(id), `${path}.${id}`, out);
      return;
    }
    if (given.length === logged.length) {
      for (const [i, item] of given.entries()) compare(item, logged[i], `${path}[${i}]`, out);
      return;
    }
  }
  if (stable(given) !== stable(logged)) out.push({ path, given, logged });
}

/** JSON with object keys sorted: the same value whichever order its keys were written in. */
function stable(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function shown(value: unknown): string {
  if (value === undefined) return "absent";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
