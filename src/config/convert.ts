import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import type {
  AgentSettings,
  AlertingSettings,
  Category,
  CategoryScope,
  HttpProbeSpec,
  MaintenanceFeed,
  ProbeSchedule,
  ProbeSpec,
  ProbeSpecBase,
  ReceiverSpec,
  ServiceClass,
  SloConfig,
  Target,
  TargetAuth,
} from "../model/config.js";
import { DIAGNOSTIC_CATEGORY } from "../model/result.js";
import { Secret } from "../model/secret.js";
import { DIAGNOSTIC_KINDS, type ListedDiagnosticKind } from "../probes/kinds/diagnostic.js";
import { flowSpecOf } from "../probes/kinds/flow.js";
import { pathKey } from "./env.js";
import { headerValues } from "./header-credentials.js";
import { trafficOf } from "./traffic-wire.js";
import {
  canonicalBaseUrl,
  parseDuration,
  parseListen,
  parsePercent,
  parseTimestamp,
  percentToRatio,
} from "./values.js";
import type { AlertingWireValue, ProbeWireValue, SloFile } from "./wire.js";

/** A validated probe and where it was declared. */
export interface LocatedProbe {
  readonly wire: ProbeWireValue;
  readonly file: string;
  readonly line: number;
  /** Names of its headers whose values are credentials. */
  readonly secretHeaders: ReadonlySet<string>;
  /** pathKey() within the probe of each flow step's header that is a credential (["steps", 0, "headers", name]). */
  readonly secretStepHeaders?: ReadonlySet<string>;
  /** What each body_file holds, by pathKey() within the probe: "" for its own, ["steps", 0] for a flow step's. */
  readonly bodyFiles?: ReadonlyMap<string, string>;
  /** The values the environment gave the probe's fields (`${NAME}` anywhere in it). */
  readonly environmentValues?: readonly string[];
  /** True when its body references the environment (set or not): the body is then a secret. */
  readonly bodyFromEnvironment?: boolean;
}

export interface ConversionInput {
  readonly wire: SloFile;
  /** Absolute path of slo.yaml. */
  readonly file: string;
  readonly configDir: string;
  readonly probes: readonly LocatedProbe[];
  readonly auth: ReadonlyMap<string, TargetAuth>;
  /** pathKey() of every slo.yaml header value that is a credential. */
  readonly secretHeaders: ReadonlySet<string>;
  /** The values the environment gave any field of slo.yaml. */
  readonly environmentValues?: readonly string[];
  /** The same without the agent's identity and addresses (SloConfig.secretEnvironmentValues). */
  readonly secretEnvironmentValues?: readonly string[];
  /** The same by field (pathKey of where each `${NAME}` stands): a target's own are found here. */
  readonly environmentReferences?: ReadonlyMap<string, readonly string[]>;
  /** traffic.token, or what traffic.token_file holds; absent without a traffic section. */
  readonly trafficToken?: Secret;
}

/** The one place the wire form becomes the domain model; input is already validated. */
export function toSloConfig(input: ConversionInput): SloConfig {
  const { wire, configDir } = input;
  const listen = parseListen(wire.agent.listen)!;
  const agent: AgentSettings = {
    region: wire.agent.region,
    id: wire.agent.id ?? hostname(),
    listen,
    ...(wire.agent.admin_listen === undefined ? {} : { adminListen: parseListen(wire.agent.admin_listen)! }),
    ...(wire.agent.allowed_hosts === undefined
      ? {}
      : { allowedHosts: wire.agent.allowed_hosts.map((h) => h.toLowerCase()) }),
    // Contract section 2: data_dir is relative to the config file, else ./data in the working directory.
    dataDir: wire.agent.data_dir === undefined ? resolve("data") : resolve(configDir, wire.agent.data_dir),
    retentionDays: wire.agent.retention_days,
    minuteRollupDays: wire.agent.minute_rollup_days,
    maxStallMs: wire.agent.max_stall_ms,
    niceOtherThreads: wire.agent.nice_other_threads,
    otlp: wire.agent.otlp
      ? {
          endpoint: wire.agent.otlp.endpoint,
          intervalMs: parseDuration(wire.agent.otlp.interval)!,
          headers: Object.fromEntries(
            Object.entries(wire.agent.otlp.headers).map(([name, value]) => [name, new Secret(value)]),
          ),
        }
      : null,
    adminToken: wire.agent.admin_token === undefined ? null : new Secret(wire.agent.admin_token),
    ...(wire.agent.api_token === undefined ? {} : { apiToken: new Secret(wire.agent.api_token) }),
    ...(wire.agent.signing_key_file === undefined
      ? {}
      : { signingKeyFile: resolve(configDir, wire.agent.signing_key_file) }),
    ...(wire.agent.tsa_url === undefined ? {} : { tsaUrl: wire.agent.tsa_url }),
    ...(wire.agent.tsa_ca_file === undefined
      ? {}
      : { tsaCaFile: resolve(configDir, wire.agent.tsa_ca_file) }),
  };
  return {
    version: 1,
    file: input.file,
    agent,
    serviceClasses: new Map(
      Object.entries(wire.service_classes).map(([id, c]): [string, ServiceClass] => [
        id,
        { id, title: c.title, availabilityTarget: percentToRatio(parsePercent(c.availability_target_pct)!) },
      ]),
    ),
    categories: new Map(
      Object.entries(wire.categories).map(([id, c]): [string, Category] => [
        id,
        { id, title: c.title, serviceClass: c.service_class, latencyP99Ms: c.latency_p99_ms },
      ]),
    ),
    maintenance: {
      policy: {
        minNoticeDays: wire.maintenance.policy.min_notice_days,
        maxOccasionsPerYear: wire.maintenance.policy.max_occasions_per_year,
        maxHoursPerYear: wire.maintenance.policy.max_hours_per_year,
      },
      windows: wire.maintenance.windows.map((w) => ({
        id: w.id,
        start: parseTimestamp(w.start)!,
        end: parseTimestamp(w.end)!,
        announcedAt: parseTimestamp(w.announced_at)!,
        categories: scopeOf(w.categories),
        ...(w.description === undefined ? {} : { description: w.description }),
      })),
      ...(wire.maintenance.feed ? { feed: feedOf(wire.maintenance.feed) } : {}),
    },
    exclusions: wire.exclusions.map((e) => ({
      id: e.id,
      start: parseTimestamp(e.start)!,
      end: parseTimestamp(e.end)!,
      reason: e.reason,
      categories: scopeOf(e.categories),
    })),
    ...(input.environmentValues && input.environmentValues.length > 0
      ? { environmentValues: input.environmentValues.map((v) => new Secret(v)) }
      : {}),
    ...(input.secretEnvironmentValues && input.secretEnvironmentValues.length > 0
      ? { secretEnvironmentValues: input.secretEnvironmentValues.map((v) => new Secret(v)) }
      : {}),
    targets: targetsOf(wire, input.auth, input.secretHeaders, input.environmentReferences ?? new Map()),
    probes: input.probes.map(toProbeSpec),
    controls: wire.controls.map((c) => ({
      id: c.id,
      kind: c.kind,
      url: c.url,
      intervalMs: parseDuration(c.every)!,
      timeoutMs: c.timeout_ms,
    })),
    ...(wire.controls_quorum === undefined ? {} : { controlsQuorum: wire.controls_quorum }),
    alerting: alertingOf(wire.alerting, configDir),
    ...(wire.reports?.schedule === undefined
      ? {}
      : {
          reportSchedule: {
            day: wire.reports.schedule.day,
            formats: [...new Set(wire.reports.schedule.formats)],
            receivers: [...new Set(wire.reports.schedule.receivers)],
          },
        }),
    ...(wire.regions?.trusted_keys_file === undefined
      ? {}
      : { regions: { trustedKeysFile: resolve(configDir, wire.regions.trusted_keys_file) } }),
    sla: {
      provider: wire.sla.provider,
      credits: wire.sla.credits.map((tier) => ({
        belowRatio: percentToRatio(parsePercent(tier.below_pct)!),
        creditPct: tier.credit_pct,
      })),
      merchant: wire.sla.merchant ?? null,
      contractRef: wire.sla.contract_ref ?? null,
      monthlyFee: wire.sla.monthly_fee ?? null,
      ...(wire.sla.source === "probes" ? {} : { figuresFrom: wire.sla.source }),
    },
    ...(wire.traffic
      ? { traffic: trafficOf(wire.traffic, input.trafficToken ?? new Secret(wire.traffic.token ?? "")) }
      : {}),
  };
}

function receiverOf(r: AlertingWireValue["receivers"][number], configDir: string): ReceiverSpec {
  const timeoutMs = parseDuration(r.timeout)!;
  switch (r.type) {
    case "alertmanager":
      return { type: r.type, id: r.id, url: canonicalBaseUrl(r.url), timeoutMs };
    case "webhook":
      return { type: r.type, id: r.id, url: r.url, secret: new Secret(r.secret), timeoutMs };
    case "slack":
      return { type: r.type, id: r.id, url: new Secret(r.url), timeoutMs };
    case "pagerduty":
      return { type: r.type, id: r.id, routingKey: new Secret(r.routing_key), url: r.url, timeoutMs };
    case "email": {
      const { smtp } = r;
      return {
        type: r.type,
        id: r.id,
        timeoutMs,
        smtp: {
          host: smtp.host,
          port: smtp.port,
          from: smtp.from,
          to: typeof smtp.to === "string" ? [smtp.to] : smtp.to,
          starttls: smtp.starttls,
          // Relative to the config file, like every other path in it.
          caFile: smtp.ca_file === undefined ? null : resolve(configDir, smtp.ca_file),
          username: smtp.username ?? null,
          password: smtp.password === undefined ? null : new Secret(smtp.password),
        },
      };
    }
  }
}

function alertingOf(wire: AlertingWireValue, configDir: string): AlertingSettings {
  return {
    receivers: wire.receivers.map((r) => receiverOf(r, configDir)),
    forMs: parseDuration(wire.for)!,
    repeatIntervalMs: parseDuration(wire.repeat_interval)!,
    groupWaitMs: parseDuration(wire.group_wait)!,
    groupIntervalMs: parseDuration(wire.group_interval)!,
    coverageBelow: percentToRatio(parsePercent(wire.coverage_below_pct)!),
    latencyWindow: wire.latency_window,
    runbookBaseUrl: wire.runbook_base_url === undefined ? null : canonicalBaseUrl(wire.runbook_base_url),
  };
}

function targetsOf(
  wire: SloFile,
  auth: ReadonlyMap<string, TargetAuth>,
  secretHeaders: ReadonlySet<string>,
  references: ReadonlyMap<string, readonly string[]>,
): ReadonlyMap<string, Target> {
  const valuesIn = (id: string) => {
    const inTarget = `${pathKey(["targets", id])}\0`;
    return [...references].filter(([key]) => key.startsWith(inTarget)).flatMap(([, values]) => values);
  };
  return new Map(
    Object.entries(wire.targets).map(([id, t]): [string, Target] => [
      id,
      {
        id,
        baseUrl: canonicalBaseUrl(t.base_url),
        environment: t.environment,
        auth: auth.get(id) ?? { type: "none" },
        headers: headerValues(t.headers, ["targets", id, "headers"], secretHeaders),
        maxRequestsPerSecond: t.max_requests_per_second ?? null,
        maxInFlight: t.max_in_flight,
        keepAlive: t.keep_alive,
        tlsVerify: t.tls_verify,
        ...(valuesIn(id).length > 0 ? { environmentValues: valuesIn(id).map((v) => new Secret(v)) } : {}),
      },
    ]),
  );
}

/** `[all]` (even beside other ids) covers everything; otherwise the listed ids, deduplicated. */
function scopeOf(categories: readonly string[]): CategoryScope {
  return categories.includes("all") ? "all" : [...new Set(categories)];
}

/**
 * A probe's spec: the keys every kind has here, the kind's own by its module (src/probes/kinds/).
 * Paths in a probe (a CA file) are relative to the file that declares it.
 */
function toProbeSpec(located: LocatedProbe): ProbeSpec {
  const { wire: p, file, line, environmentValues } = located;
  const schedule: ProbeSchedule =
    p.every !== undefined
      ? { kind: "every", intervalMs: parseDuration(p.every)! }
      : { kind: "cron", expression: p.schedule!.trim() };
  const common = {
    id: p.id,
    schedule,
    timeoutMs: p.timeout_ms,
    source: { file, line },
    ...(environmentValues && environmentValues.length > 0
      ? { environmentValues: environmentValues.map((v) => new Secret(v)) }
      : {}),
  };
  if (isDiagnostic(p)) {
    const base: ProbeSpecBase = {
      ...common,
      category: DIAGNOSTIC_CATEGORY,
      target: null,
      writes: false,
      expect: null,
    };
    // The wire value is this kind's member (the union is built from the same list).
    const toSpec = DIAGNOSTIC_KINDS.find((kind) => kind.kind === p.kind)!.toSpec as (
      wire: ProbeWireValue,
      base: ProbeSpecBase,
      resolvePath: (f: string) => string,
    ) => ProbeSpec;
    return toSpec(p, base, (f) => resolve(dirname(file), f));
  }
  const base: ProbeSpecBase = {
    ...common,
    category: p.category,
    target: p.target,
    writes: p.writes,
    expect: p.expect ? { status: [...new Set(p.expect.status)].sort((a, b) => a - b) } : null,
  };
  if (p.kind === "flow") {
    const { secretHeaders, secretStepHeaders, bodyFiles } = located;
    return flowSpecOf(p, base, {
      secretHeader: (path) =>
        path.length === 2
          ? secretHeaders.has(String(path[1]))
          : (secretStepHeaders?.has(pathKey(path)) ?? false),
      bodyFile: (list, index) => bodyFiles?.get(pathKey([list, index])),
    });
  }
  return httpSpecOf(p, base, located);
}

type DiagnosticWire = Extract<ProbeWireValue, { kind: ListedDiagnosticKind["kind"] }>;

function isDiagnostic(p: ProbeWireValue): p is DiagnosticWire {
  return DIAGNOSTIC_KINDS.some((kind) => kind.kind === p.kind);
}

function httpSpecOf(
  p: Extract<ProbeWireValue, { kind: "http" }>,
  base: ProbeSpecBase,
  { secretHeaders, bodyFromEnvironment, bodyFiles }: LocatedProbe,
): HttpProbeSpec {
  const headers: Record<string, string | Secret> = Object.fromEntries(
    Object.entries(p.headers).map(([name, value]) => [
      name,
      secretHeaders.has(name) ? new Secret(value) : value,
    ]),
  );
  let body: string | null = null;
  if (p.body_file !== undefined) body = bodyFiles?.get("") ?? null;
  else if (typeof p.body === "string") body = p.body;
  else if (p.body !== undefined) {
    body = JSON.stringify(p.body);
    const hasContentType = Object.keys(headers).some((name) => name.toLowerCase() === "content-type");
    if (!hasContentType) headers["content-type"] = "application/json";
  }
  const { environmentValues, source, expect, ...rest } = base;
  return {
    kind: p.kind,
    ...rest,
    target: p.target,
    method: p.method,
    path: p.path,
    headers,
    body,
    followRedirects: p.follow_redirects,
    maxBodyBytes: p.max_body_bytes,
    ...(environmentValues ? { environmentValues } : {}),
    ...(bodyFromEnvironment ? { bodyFromEnvironment: true } : {}),
    source,
    expect,
  };
}

function feedOf(feed: NonNullable<SloFile["maintenance"]["feed"]>): MaintenanceFeed {
  return {
    url: feed.url.replace(/\/+$/, ""),
    everyMs: parseDuration(feed.every)!,
    components: feed.components
      ? new Map(Object.entries(feed.components).map(([name, list]) => [name, scopeOf(list)]))
      : null,
  };
}
