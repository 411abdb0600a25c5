import { networkInterfaces } from "node:os";
import { canonicalIp, hostKeyOf as hostOf, portOf } from "../model/address.js";
import type { ConfigProblem } from "./problems.js";
import type { FieldPath, YamlSource } from "./source.js";
import { TargetWire } from "./wire.js";

/** One probe as declared, wherever it was declared (inline in slo.yaml or in a probe file). */
export interface ProbeEntry {
  readonly source: YamlSource;
  readonly path: FieldPath;
  readonly raw: unknown;
}

type Raw = Record<string, unknown>;

const isRecord = (value: unknown): value is Raw =>
  value !== null && typeof value === "object" && !Array.isArray(value);
const keysOf = (value: unknown): string[] => (isRecord(value) ? Object.keys(value).sort() : []);
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/**
 * Checks that every reference points at something declared. It reads the expanded documents
 * directly, not the validated result, so that it still runs (and every problem is reported at
 * once) when some other part of the configuration is invalid.
 */
export function checkReferences(
  slo: YamlSource,
  data: unknown,
  probes: readonly ProbeEntry[],
): ConfigProblem[] {
  const root = isRecord(data) ? data : {};
  const classes = keysOf(root.service_classes);
  const categories = keysOf(root.categories);
  const problems: ConfigProblem[] = [];

  for (const [id, category] of Object.entries(isRecord(root.categories) ? root.categories : {})) {
    const serviceClass = isRecord(category) ? category.service_class : undefined;
    if (typeof serviceClass === "string" && serviceClass !== "" && !classes.includes(serviceClass)) {
      const message = unknown("service class", serviceClass, classes);
      problems.push(slo.problem(["categories", id, "service_class"], message));
    }
  }
  const maintenance = isRecord(root.maintenance) ? root.maintenance : {};
  problems.push(...checkScopedList(slo, ["maintenance", "windows"], maintenance.windows, categories));
  problems.push(...checkScopedList(slo, ["exclusions"], root.exclusions, categories));
  problems.push(...checkFeedComponents(slo, maintenance.feed, categories));
  problems.push(...checkProbes(probes, categories, root.targets));
  problems.push(...checkTrafficRoutes(slo, root.traffic, categories, keysOf(root.targets)));
  problems.push(...checkReportReceivers(slo, root.reports, root.alerting));
  const quorum = root.controls_quorum;
  const controls = listOf(root.controls).length;
  if (typeof quorum === "number" && quorum > controls) {
    // A quorum no set of controls can reach would silently turn merchant_side off.
    problems.push(slo.problem(["controls_quorum"], `${quorum} exceeds the ${controls} controls configured`));
  }
  return problems;
}

/**
 * A control must be off the provider's network path (contract section 14): one on the host and
 * port of a target a probe uses fails with the provider and turns its outage into merchant_side.
 * Hosts compare in one spelling (src/model/address.ts: localhost, 127.0.0.0/8, ::1, 0.0.0.0 are one
 * host; default ports filled in); a dns control, which only resolves its host, by host alone.
 * A problem for the commands that probe (run, check-config): a report judges by the log's controls.
 * A control on another port of a target's host is a warning: another endpoint, the same machine.
 * This machine's own addresses (its interfaces') are the local host too: a provider listening on
 * all of them answers a control at the machine's LAN address as at 127.0.0.1 (attack 24f).
 */
export function checkControlsOffPath(
  slo: YamlSource,
  controls: unknown,
  targets: unknown,
  probes: readonly ProbeEntry[],
): { problems: ConfigProblem[]; warnings: ConfigProblem[] } {
  const used = new Map<string, string>();
  for (const { raw } of probes) {
    if (
      isRecord(raw) &&
      typeof raw.target === "string" &&
      !used.has(raw.target) &&
      typeof raw.id === "string"
    )
      used.set(raw.target, raw.id);
  }
  const declared = isRecord(targets) ? targets : {};
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const own = ownAddresses();
  const hostKeyOf = (url: string) => {
    const key = hostOf(url);
    return key !== null && own.has(key) ? "localhost" : key;
  };
  listOf(controls).forEach((control, i) => {
    if (!isRecord(control) || typeof control.url !== "string") return;
    const host = hostKeyOf(control.url);
    if (host === null) return;
    const port = portOf(control.url);
    let sameHost: ConfigProblem | null = null;
    for (const [target, probe] of used) {
      const entry = declared[target];
      const baseUrl = isRecord(entry) ? entry.base_url : undefined;
      if (typeof baseUrl !== "string" || hostKeyOf(baseUrl) !== host) continue;
      const at = `target "${oneLine(target)}" (${new URL(baseUrl).hostname}:${portOf(baseUrl)}), which probe "${oneLine(probe)}" uses`;
      if (control.kind !== "dns" && portOf(baseUrl) !== port) {
        // Another port is another endpoint, but the same machine: one process or host failing fails both.
        sameHost ??= slo.problem(
          ["controls", i, "url"],
          `is on the host of ${at}, on another port: accepted, but if the provider's host or process fails, this control fails with it and the provider's outage counts as the merchant's; prefer an endpoint off the provider's machines`,
        );
        continue;
      }
      const where = control.kind === "dns" ? "the host" : "the host and port";
      problems.push(
        slo.problem(
          ["controls", i, "url"],
          `names ${where} of ${at}: a control must be a neutral endpoint off the provider's network path, or a provider outage fails it too and counts as the merchant's`,
        ),
      );
      return;
    }
    if (sameHost) warnings.push(sameHost);
  });
  return { problems, warnings };
}

/** This machine's interface addresses, canonical (an IPv6 link-local one without its zone). */
function ownAddresses(): Set<string> {
  const own = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const { address } of list ?? []) own.add(canonicalIp(address.replace(/%.*$/, "")));
  return own;
}

/** traffic.routes: each names a declared target and category. */
function checkTrafficRoutes(
  slo: YamlSource,
  traffic: unknown,
  categories: string[],
  targets: string[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  listOf(isRecord(traffic) ? traffic.routes : undefined).forEach((route, i) => {
    if (!isRecord(route)) return;
    const { target, category } = route;
    if (typeof target === "string" && target !== "" && !targets.includes(target))
      problems.push(slo.problem(["traffic", "routes", i, "target"], unknown("target", target, targets)));
    if (typeof category === "string" && category !== "" && !categories.includes(category))
      problems.push(
        slo.problem(["traffic", "routes", i, "category"], unknown("category", category, categories)),
      );
  });
  return problems;
}

/** reports.schedule.receivers name receivers of alerting.receivers. */
function checkReportReceivers(slo: YamlSource, reports: unknown, alerting: unknown): ConfigProblem[] {
  const schedule = isRecord(reports) ? reports.schedule : undefined;
  if (!isRecord(schedule)) return [];
  const known = listOf(isRecord(alerting) ? alerting.receivers : undefined).flatMap((r) =>
    isRecord(r) && typeof r.id === "string" ? [r.id] : [],
  );
  return listOf(schedule.receivers).flatMap((id, i) =>
    typeof id === "string" && !known.includes(id)
      ? [slo.problem(["reports", "schedule", "receivers", i], unknown("receiver", id, known))]
      : [],
  );
}

/** Windows and exclusions: categories known (or "all"), ids unique. */
function checkScopedList(
  slo: YamlSource,
  at: FieldPath,
  list: unknown,
  categories: string[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, FieldPath>();
  listOf(list).forEach((item, i) => {
    if (!isRecord(item)) return;
    listOf(item.categories).forEach((category, j) => {
      if (typeof category === "string" && category !== "all" && !categories.includes(category)) {
        problems.push(
          slo.problem([...at, i, "categories", j], unknown("category", category, ["all", ...categories])),
        );
      }
    });
    if (typeof item.id !== "string") return;
    const first = seen.get(item.id);
    if (first) problems.push(slo.problem([...at, i, "id"], duplicate("id", item.id, slo, first)));
    else seen.set(item.id, [...at, i, "id"]);
  });
  return problems;
}

/** maintenance.feed.components: every mapped category is known (or "all"). */
function checkFeedComponents(slo: YamlSource, feed: unknown, categories: string[]): ConfigProblem[] {
  if (!isRecord(feed) || !isRecord(feed.components)) return [];
  const at: FieldPath = ["maintenance", "feed", "components"];
  return Object.entries(feed.components).flatMap(([name, list]) =>
    listOf(list).flatMap((category, j) =>
      typeof category === "string" && category !== "all" && !categories.includes(category)
        ? [slo.problem([...at, name, j], unknown("category", category, ["all", ...categories]))]
        : [],
    ),
  );
}

function checkProbes(probes: readonly ProbeEntry[], categories: string[], targets: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const targetIds = keysOf(targets);
  const seen = new Map<string, { source: YamlSource; path: FieldPath }>();
  for (const { source, path, raw } of probes) {
    if (!isRecord(raw)) continue;
    if (typeof raw.category === "string" && raw.category !== "" && !categories.includes(raw.category)) {
      problems.push(source.problem([...path, "category"], unknown("category", raw.category, categories)));
    }
    if (typeof raw.target === "string" && raw.target !== "") {
      if (!targetIds.includes(raw.target)) {
        problems.push(source.problem([...path, "target"], unknown("target", raw.target, targetIds)));
      } else if (raw.writes === true) {
        const problem = writesProblem(raw.target, (targets as Raw)[raw.target]);
        if (problem) problems.push(source.problem([...path, "writes"], problem));
      }
    }
    if (typeof raw.id !== "string") continue;
    const first = seen.get(raw.id);
    if (first)
      problems.push(source.problem([...path, "id"], duplicate("probe id", raw.id, first.source, first.path)));
    else seen.set(raw.id, { source, path: [...path, "id"] });
  }
  return problems;
}

/** A probe that creates objects may only run against a playground or the simulator. */
function writesProblem(targetId: string, target: unknown): string | null {
  const environment = isRecord(target) ? target.environment : undefined;
  const parsed = TargetWire.shape.environment.safeParse(environment);
  if (!parsed.success || parsed.data !== "production") return null;
  return `a probe that writes needs a target whose environment is playground or simulator (target "${targetId}" is production)`;
}

function unknown(what: string, value: string, known: readonly string[]): string {
  const names = known.map(oneLine);
  return `unknown ${what} "${oneLine(value)}" (known: ${names.length > 0 ? names.join(", ") : "none declared"})`;
}

/**
 * A name as a one-line message shows it: one holding a line break or another control character
 * (a YAML complex key can) is JSON-escaped, so every problem stays one located line.
 */
function oneLine(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
  return /[\u0000-\u001f\u007f]/.test(name) ? JSON.stringify(name).slice(1, -1) : name;
}

function duplicate(what: string, value: string, firstSource: YamlSource, firstPath: FieldPath): string {
  const { line, col } = firstSource.position(firstPath);
  return `duplicate ${what} "${value}" (first declared at ${firstSource.file}:${line}:${col})`;
}
