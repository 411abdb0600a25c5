import { readFileSync } from "node:fs";
import { dirname, normalize, resolve } from "node:path";
import type { SloConfig, TargetAuth } from "../model/config.js";
import { redactSecrets } from "../model/secret.js";
import type { LocatedProbe } from "./convert.js";
import { toSloConfig } from "./convert.js";
import { checkControlsOffPath, checkReferences, type ProbeEntry } from "./crossref.js";
import { type Environment, expandEnvironment, pathKey } from "./env.js";
import { headerCredentials, sloHeaderPlaces } from "./header-credentials.js";
import { problemsFromIssues } from "./issues.js";
import { policyLooserThanSla } from "./policy-terms.js";
import {
  harvestProbes,
  probeDirectoryOf,
  readProbeDirectory,
  tightestIntervalMs,
  timeoutNotShorterThanEvery,
} from "./probe-files.js";
import { ConfigError, type ConfigProblem, formatProblem } from "./problems.js";
import { probeFileRunOnly, sloRunOnly } from "./run-only.js";
import { resolveAuth } from "./secrets.js";
import { readYamlSource, type YamlSource } from "./source.js";
import { TrafficWire } from "./traffic-wire.js";
import { ControlWire, SloFileWire, TargetWire } from "./wire.js";

export interface LoadOptions {
  /** Where ${NAME} references are looked up; the process environment by default. */
  readonly env?: Environment;
  /**
   * False for commands that never probe nor deliver (report, verify, evidence, import, rules,
   * dashboards): values only `run` uses may be unset and their secret files absent (run-only.ts).
   * True (the default) for run and check-config, which require them.
   */
  readonly probing?: boolean;
}

export interface LoadedConfig {
  readonly config: SloConfig;
  readonly warnings: readonly ConfigProblem[];
}

/**
 * Loads slo.yaml and its probe files into the domain model. Every problem in every file is
 * collected first and thrown together as one ConfigError.
 */
export async function loadConfig(file: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const probing = options.probing ?? true;
  const shown = normalize(file);
  const absolute = resolve(file);
  const configDir = dirname(absolute);
  const read = await readYamlSource(absolute, shown);
  if (!read.source) throw new ConfigError(read.problems);
  const slo = read.source;

  const expanded = expandEnvironment(slo.toData(), env, probing ? undefined : sloRunOnly(slo.toData()));
  const expansionProblems = expanded.problems.map((p) => slo.problem(p.path, p.message));
  const data = expanded.value;
  const parsed = SloFileWire.safeParse(data);
  const problems = parsed.success ? [] : problemsFromIssues(parsed.error.issues, slo, SloFileWire, data);

  const root = (data ?? {}) as Record<string, unknown>;
  const credentials = headerCredentials(slo, expanded, sloHeaderPlaces(data));
  const inline =
    root.probes === undefined
      ? null
      : await harvestProbes(slo, ["probes"], root.probes, credentials.secret, expanded.references);
  const fromDir =
    typeof root.probes_dir === "string" && root.probes_dir !== ""
      ? await readFromDirectory(root.probes_dir, configDir, dirname(shown), env, slo, probing)
      : null;
  const harvests = [inline, fromDir].filter((h) => h !== null);
  const entries: ProbeEntry[] = harvests.flatMap((h) => h.entries);
  const located: LocatedProbe[] = harvests.flatMap((h) => h.located);
  problems.push(...harvests.flatMap((h) => h.problems), ...checkReferences(slo, data, entries));
  // Like a secret file: a body file kept only where the agent runs is no problem for a report.
  if (probing) problems.push(...harvests.flatMap((h) => h.runProblems));
  // A control on the provider's path would turn its outage into the merchant's: not run with one.
  const offPath = probing ? checkControlsOffPath(slo, root.controls, root.targets, entries) : null;
  if (offPath) problems.push(...offPath.problems);

  const auth = await resolveTargetAuth(root.targets, slo, configDir, expanded.references);
  // A credential file mounted only where the agent runs is no problem for the report.
  if (probing) problems.push(...auth.problems);
  const traffic = await readTrafficToken(root.traffic, slo, configDir, expanded.references);
  // Like target credentials: a token file mounted only where the agent runs is no problem for a report.
  if (probing) problems.push(...traffic.problems);
  const secrets = [
    ...traffic.values,
    ...secretValues(root.targets, auth.byTarget),
    ...credentials.values,
    ...harvests.flatMap((h) => h.secrets),
    ...receiverSecrets(root.alerting),
  ];
  const all = withoutEchoes([...expansionProblems, ...problems], expansionProblems).map((p) =>
    redacted(p, secrets),
  );
  if (all.length > 0 || !parsed.success) throw new ConfigError(ordered(all, shown));

  const config = toSloConfig({
    wire: parsed.data,
    file: absolute,
    configDir,
    probes: located,
    auth: auth.byTarget,
    secretHeaders: credentials.secret,
    environmentValues: [...expanded.references.values()].flat(),
    secretEnvironmentValues: [...expanded.references]
      .filter(([key]) => !isAgentIdentity(key))
      .flatMap(([, values]) => values),
    environmentReferences: expanded.references,
    ...(traffic.token ? { trafficToken: traffic.token } : {}),
  });
  // Missing credentials matter only where a probe will use them.
  const probed = new Set(config.probes.map((probe) => probe.target));
  const authWarnings = probing ? auth.warnings.filter((w) => probed.has(w.path.split(".")[1] ?? "")) : [];
  const warnings = [
    ...authWarnings,
    ...credentials.warnings,
    ...harvests.flatMap((h) => h.warnings),
    ...categoriesWithoutProbes(slo, config),
    // How probing would go matters only to a command that probes (run, check-config).
    ...(probing
      ? [
          ...harvests.flatMap((h) => h.runWarnings),
          ...(offPath?.warnings ?? []),
          ...slowControls(slo, root.controls),
          ...slotsShortDuringHang(slo, config),
          ...socketsOverFileLimit(slo, config, softFileLimit()),
          ...policyLooserThanSla(slo, config),
        ]
      : []),
  ];
  return { config, warnings: warnings.map((w) => redacted(w, secrets)) };
}

/**
 * The agent section's fields that are secret (tokens) or go to another party (the OTLP exporter);
 * the rest of it (region, id, listen, data_dir...) is the agent's identity and addresses.
 */
const AGENT_SECRET_FIELDS = new Set(["admin_token", "api_token", "otlp"]);

/** A field of the agent section that says who and where the agent is, by pathKey(). */
function isAgentIdentity(key: string): boolean {
  const [top, field] = key.split("\0");
  return top === "agent" && !AGENT_SECRET_FIELDS.has(field ?? "");
}

async function readFromDirectory(
  probesDir: string,
  configDir: string,
  shownConfigDir: string,
  env: Environment,
  slo: YamlSource,
  probing: boolean,
) {
  const where = probeDirectoryOf(probesDir, configDir, shownConfigDir);
  return readProbeDirectory(where.directory, where.shown, env, slo, probing ? undefined : probeFileRunOnly);
}

/** traffic.token, or the file traffic.token_file names read like a target's secret file. */
async function readTrafficToken(
  raw: unknown,
  slo: YamlSource,
  configDir: string,
  fromEnvironment: ReadonlyMap<string, unknown>,
) {
  const wire = TrafficWire.safeParse(raw).data;
  if (!wire) return { token: null, problems: [], values: [] };
  const resolved = await resolveAuth(
    wire.token === undefined
      ? { type: "bearer", token_file: wire.token_file }
      : { type: "bearer", token: wire.token },
    ["traffic"],
    slo,
    configDir,
    (key) => fromEnvironment.has(pathKey(["traffic", key])),
  );
  const token = resolved.auth.type === "bearer" ? resolved.auth.token : null;
  return { token, problems: resolved.problems, values: token && !token.isEmpty ? [token.reveal()] : [] };
}

async function resolveTargetAuth(
  targets: unknown,
  slo: YamlSource,
  configDir: string,
  fromEnvironment: ReadonlyMap<string, unknown>,
) {
  const byTarget = new Map<string, TargetAuth>();
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const entries: [string, unknown][] =
    targets !== null && typeof targets === "object" ? Object.entries(targets) : [];
  for (const [id, raw] of entries) {
    // A target with a problem elsewhere still gets its secret files checked, so all problems show at once.
    const rawAuth = raw !== null && typeof raw === "object" ? (raw as { auth?: unknown }).auth : undefined;
    const wire = TargetWire.shape.auth.safeParse(rawAuth).data;
    if (!wire) continue;
    const at = ["targets", id, "auth"];
    const resolved = await resolveAuth(wire, at, slo, configDir, (key) =>
      fromEnvironment.has(pathKey([...at, key])),
    );
    byTarget.set(id, resolved.auth);
    problems.push(...resolved.problems);
    warnings.push(...resolved.warnings);
  }
  return { byTarget, problems, warnings };
}

/** A value that failed to expand is reported once, not again as whatever the empty string broke. */
function withoutEchoes(problems: ConfigProblem[], expansion: ConfigProblem[]): ConfigProblem[] {
  const expanded = new Set(expansion.map((p) => `${p.file}\0${p.path}`));
  return problems.filter((p) => expansion.includes(p) || !expanded.has(`${p.file}\0${p.path}`));
}

/** Every credential the targets hold, as written (after expansion) or as read from a file. */
function secretValues(targets: unknown, auth: ReadonlyMap<string, TargetAuth>): string[] {
  const values = new Set<string>();
  for (const target of Object.values(targets !== null && typeof targets === "object" ? targets : {})) {
    const rawAuth = (target as { auth?: Record<string, unknown> } | null)?.auth ?? {};
    for (const key of ["username", "password", "token"]) {
      const value = rawAuth[key];
      if (typeof value === "string") values.add(value);
    }
  }
  for (const a of auth.values()) {
    if (a.type === "basic") values.add(a.username.reveal()).add(a.password.reveal());
    if (a.type === "bearer") values.add(a.token.reveal());
  }
  values.delete("");
  return [...values];
}

/** The webhook secrets, Slack URLs and PagerDuty routing keys of alerting.receivers, as written (after expansion). */
function receiverSecrets(alerting: unknown): string[] {
  const receivers = (alerting as { receivers?: unknown } | null)?.receivers;
  if (!Array.isArray(receivers)) return [];
  return receivers.flatMap((r: Record<string, unknown> | null) => {
    const value =
      r?.type === "slack"
        ? r.url
        : r?.type === "pagerduty"
          ? r.routing_key
          : r?.type === "email"
            ? (r.smtp as { password?: unknown } | undefined)?.password
            : r?.secret;
    return typeof value === "string" && value !== "" ? [value] : [];
  });
}

/** No message repeats a credential, even one written by mistake where an id or a URL belongs. */
function redacted(problem: ConfigProblem, secrets: readonly string[]): ConfigProblem {
  const message = redactSecrets(problem.message, secrets);
  return message === problem.message ? problem : { ...problem, message };
}

/** slo.yaml first, then probe files in the order read; by position inside each file; each once. */
function ordered(problems: ConfigProblem[], configFile: string): ConfigProblem[] {
  const fileOrder = [configFile, ...new Set(problems.map((p) => p.file))];
  const unique = [...new Map(problems.map((p) => [formatProblem(p), p])).values()];
  return unique.sort(
    (a, b) => fileOrder.indexOf(a.file) - fileOrder.indexOf(b.file) || a.line - b.line || a.col - b.col,
  );
}

/** A control with timeout_ms >= every under-samples its own outage like a probe (probe-files.ts). */
function slowControls(slo: YamlSource, controls: unknown): ConfigProblem[] {
  if (!Array.isArray(controls)) return [];
  return controls.flatMap((raw, i) => {
    const control = ControlWire.safeParse(raw).data;
    return control ? (timeoutNotShorterThanEvery(slo, ["controls", i], raw, control) ?? []) : [];
  });
}

/**
 * While a target hangs, each run of its probes holds one of its max_in_flight slots for its whole
 * timeout_ms: a probe needs timeout_ms / every of them (at most 1: a run never overlaps its own
 * next one; a cron schedule's every is the shortest gap between its runs). Past the slots, due runs are skipped and the outage is under-sampled, with no error.
 */
function slotsShortDuringHang(slo: YamlSource, config: SloConfig): ConfigProblem[] {
  return [...config.targets.values()].flatMap((target) => {
    const needed = config.probes.reduce(
      (sum, p) =>
        p.target === target.id
          ? sum + Math.min(1, p.timeoutMs / (tightestIntervalMs(p.schedule) ?? p.timeoutMs))
          : sum,
      0,
    );
    if (target.maxInFlight === undefined || needed <= target.maxInFlight) return [];
    return [
      slo.problem(
        ["targets", target.id, "max_in_flight"],
        `while this target hangs its probes need ${Math.ceil(needed)} runs in flight (each probe's timeout_ms over its every or its schedule's shortest gap, at most 1 each) but max_in_flight is ${target.maxInFlight}: ` +
          `the runs past it are skipped and an outage is under-sampled; raise max_in_flight to ${Math.ceil(needed)} or shorten timeout_ms`,
      ),
    ];
  });
}

/** Descriptors kept for what is no probe's: the /metrics listener and its scrapes, the store, logs. */
const FD_RESERVE = 64;

/**
 * The process's soft limit on open files (`ulimit -Sn`), from /proc/self/limits; null where there
 * is none to read (not Linux) or it is unlimited.
 */
export function softFileLimit(): number | null {
  try {
    const line = /^Max open files\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    const soft = line ? Number(line[1]) : Number.NaN;
    return Number.isSafeInteger(soft) ? soft : null;
  } catch {
    return null;
  }
}

/**
 * While targets hang, every run in flight holds a socket: at most min(max_in_flight, its probes)
 * a target, one a control, and a reserve for /metrics and the store. Past the process's open-file
 * limit a connect fails with EMFILE inside the agent (agent_error, excluded: the provider's
 * failures go unmeasured) and /metrics stops answering.
 */
function socketsOverFileLimit(slo: YamlSource, config: SloConfig, limit: number | null): ConfigProblem[] {
  if (limit === null) return [];
  const probes = new Map<string, number>();
  let sockets = FD_RESERVE + (config.controls?.length ?? 0);
  for (const p of config.probes) {
    // A probe of no target (tcp, dns, tls) holds at most one socket of its own.
    if (p.target === null) sockets += 1;
    else probes.set(p.target, (probes.get(p.target) ?? 0) + 1);
  }
  for (const [target, count] of probes)
    sockets += Math.min(config.targets.get(target)?.maxInFlight ?? count, count);
  if (sockets <= limit) return [];
  return [
    slo.problem(
      ["targets"],
      `while targets hang the agent may hold ${sockets} open files (each target's runs in flight, at most min(max_in_flight, its probes), one a probe of no target or a control, and ${FD_RESERVE} for /metrics and the store) but its open-file limit (ulimit -Sn) is ${limit}: ` +
        `past it a request fails inside the agent (EMFILE, agent_error, excluded from the figures) and /metrics stops answering; raise the limit (ulimit -n ${sockets}, LimitNOFILE= in systemd, --ulimit nofile= in Docker) or lower max_in_flight`,
    ),
  ];
}

function categoriesWithoutProbes(slo: YamlSource, config: SloConfig): ConfigProblem[] {
  const probed = new Set(config.probes.map((p) => p.category));
  return [...config.categories.keys()]
    .filter((id) => !probed.has(id))
    .map((id) => slo.problem(["categories", id], "no probe measures this category"));
}
