import * as z from "zod";
import { DEFAULT_NICE_OTHER_THREADS, DEFAULT_STALL_MS, MAX_STALL_MS, MIN_STALL_MS } from "../model/config.js";
import { invisibleCharacterIn } from "../model/text.js";
import { DIAGNOSTIC_KINDS, type ListedDiagnosticKind } from "../probes/kinds/diagnostic.js";
import { flowFields, flowProblems } from "../probes/kinds/flow-wire.js";
import { TrafficWire } from "./traffic-wire.js";
import {
  cronProblem,
  headerProblem,
  isHttpUrl,
  parseDuration,
  parseListen,
  parsePercent,
  parseTimestamp,
} from "./values.js";

/**
 * The wire schema, version 1: what slo.yaml and probes/*.yaml may contain, with every default.
 * It validates and fills defaults only; conversion into the domain model happens in convert.ts.
 * Descriptions feed docs/configuration.md (scripts/gen-config-reference.ts).
 */

// Spelled in two parts: one literal "${NAME}" reads to the linter like a template-literal slip.
const ENV = "$" + "{NAME}";

const text = () => z.string().min(1, "must not be empty");

/**
 * A name shown in every report format (a title, the provider): no control character and none of
 * the invisible ones (zero-width space, BOM, U+2028/U+2029, bidirectional controls, tag
 * characters) that make it read otherwise than it is or hide text in it.
 */
const shownName = () =>
  text().superRefine((value, ctx) => {
    const found = invisibleCharacterIn(value);
    if (found !== null)
      ctx.addIssue({
        code: "custom",
        message: `holds a control or invisible character (${found}); write it plainly`,
      });
  });

const timestamp = (what: string) =>
  z
    .string()
    .refine(
      (v) => parseTimestamp(v) !== null,
      "must be an ISO-8601 timestamp with a zone, like 2026-10-10T01:00:00Z",
    )
    .describe(`${what} ISO-8601 with a zone, e.g. 2026-10-10T01:00:00Z.`);

const percent = z
  .union([z.number(), z.string()])
  .refine((v) => parsePercent(v) !== null, "must be a percentage like 99.0")
  .refine((v) => {
    const pct = parsePercent(v);
    return pct === null || (pct > 0 && pct <= 100);
  }, "must be in (0, 100]");

const categoryList = z
  .array(z.string())
  .min(1, 'must name at least one category, or "all"')
  .describe("Category ids this applies to, or [all].");

const headerMap = z.record(z.string(), z.string()).superRefine((map, ctx) => {
  for (const [name, value] of Object.entries(map)) {
    const problem = headerProblem(name, value);
    if (problem) ctx.addIssue({ code: "custom", path: [name], message: problem });
  }
});

const headers = headerMap
  .default({})
  .describe(
    `Extra request headers (values may use ${ENV}); a value from the environment, or of Authorization, Cookie or an API-key/token header, is a secret.`,
  );

export const AgentWire = z
  .strictObject({
    region: text().default("eu").describe("The `region` label on every exported series."),
    id: text()
      .optional()
      .describe(
        "This agent's identity among several (the `agent` label and the agent of its records); default: the host name.",
      ),
    listen: z
      .string()
      .refine((v) => parseListen(v) !== null, "must be HOST:PORT, like 0.0.0.0:9464")
      .default("0.0.0.0:9464")
      .describe("Where /metrics, /healthz and /readyz are served (HOST:PORT; port 0 picks a free one)."),
    admin_listen: z
      .string()
      .refine((v) => parseListen(v) !== null, "must be HOST:PORT, like 127.0.0.1:9465")
      .optional()
      .describe(
        "Where /-/reload and /api/v1/* are served instead of agent.listen (HOST:PORT, e.g. loopback or a private interface); agent.listen then answers them 404.",
      ),
    allowed_hosts: z
      .array(text())
      .min(1, "list at least one host name, or leave allowed_hosts out")
      .optional()
      .describe(
        "Host header values every listener answers (a name, or NAME:PORT); any other Host is answered 421, so a DNS-rebinding page cannot read the agent. Default: any.",
      ),
    data_dir: text()
      .optional()
      .describe(
        "Evidence store directory, relative to this file (default: ./data in the working directory).",
      ),
    retention_days: z
      .number()
      .int("must be a whole number of days")
      .positive("must be > 0")
      .default(400)
      .describe("Days raw probe results are kept; rollups are kept longer."),
    minute_rollup_days: z
      .number()
      .int("must be a whole number of days")
      .positive("must be > 0")
      .default(400)
      .describe("Days per-minute rollups are kept before they are merged into hourly ones (kept for good)."),
    otlp: z
      .strictObject({
        endpoint: z
          .string()
          .refine(isHttpUrl, "must be an absolute http:// or https:// URL")
          .describe("The collector's OTLP/HTTP metrics URL, e.g. http://otel-collector:4318/v1/metrics."),
        interval: z
          .string()
          .refine((v) => (parseDuration(v) ?? 0) >= 1000, "must be a duration of at least 1s, like 60s")
          .default("60s")
          .describe("How often metrics are pushed."),
        headers: headerMap
          .default({})
          .describe(`Request headers, e.g. an API key (values may use ${ENV}; they are treated as secrets).`),
      })
      .optional()
      .describe("Also push every metric to an OpenTelemetry Collector (besides serving /metrics)."),
    admin_token: z
      .string()
      .min(16, "must be at least 16 characters (e.g. the output of `openssl rand -hex 32`)")
      .optional()
      .describe(
        `Bearer token for the agent's admin endpoints (POST /-/reload); use ${ENV}. Without it they answer 403.`,
      ),
    api_token: z
      .string()
      .min(16, "must be at least 16 characters (e.g. the output of `openssl rand -hex 32`)")
      .optional()
      .describe(
        `Bearer token for the agent's read API (GET /api/v1/months/YYYY-MM/summary, read by \`report --from-agents\`); use ${ENV}. Without it the API answers 403.`,
      ),
    signing_key_file: text()
      .optional()
      .describe(
        "The agent's Ed25519 private key (PKCS#8 PEM), relative to this file; default agent-signing-key.pem in data_dir, created 0600 on first use.",
      ),
    max_stall_ms: z
      .number()
      .int("must be a whole number of milliseconds")
      .min(
        MIN_STALL_MS,
        `must be at least ${MIN_STALL_MS}: below it the host's ordinary scheduling jitter would book the provider's own failures as agent_error (excluded)`,
      )
      .max(
        MAX_STALL_MS,
        `must be at most ${MAX_STALL_MS}: above it the agent's own delay would be booked as the provider's latency or timeouts`,
      )
      .default(DEFAULT_STALL_MS)
      .describe(
        "A probe result holding more of the agent's own delay than this (ms) is `agent_error`, the delay being the agent's, not the provider's: the larger of the prober loop's lateness summed over the result's timing and the prober thread's wait for a CPU (the kernel's run-queue time, on Linux) over it, or the time before its request was written (connection set-up aside). 20 to 1000; the report shows the value in force and warns when it is not the contract's 50.",
      ),
    nice_other_threads: z
      .number()
      .int("must be a whole number of nice steps")
      .min(0, "must be 0 (all threads level) to 19")
      .max(19, "must be at most 19, Linux's lowest priority")
      .default(DEFAULT_NICE_OTHER_THREADS)
      .describe(
        "How much lower than the prober thread's the CPU priority of the agent's other threads is (Linux nice steps, 0 to 19): the main thread (evidence, /metrics, reports) and the runtime's compiler and garbage-collector threads, so that on a busy host their work cannot stretch a measured duration. 0 leaves them level; the agent needs no privilege for it. Takes effect at the next start.",
      ),
    tsa_url: z
      .string()
      .refine(isHttpUrl, "must be an absolute http:// or https:// URL")
      .optional()
      .describe(
        "An RFC 3161 time-stamp authority: `report` and `evidence export` have it timestamp each signed statement (docs/evidence-store.md). Unset: no timestamps.",
      ),
    tsa_ca_file: text()
      .optional()
      .describe(
        "The TSA's CA certificate(s) (PEM), relative to this file: a token's signer must chain to one, or the token is refused. Unset: the TSA's signature is checked with the certificate in the token only (integrity, not identity).",
      ),
  })
  .prefault({})
  .describe("The agent process itself.");

export const ServiceClassWire = z.strictObject({
  title: shownName().describe("Human title, e.g. Transactions Critical Services."),
  availability_target_pct: percent.describe(
    "Monthly availability target in percent, in (0, 100], e.g. 99.0.",
  ),
});

export const CategoryWire = z.strictObject({
  title: shownName().describe("Human title, e.g. Payment Request."),
  service_class: text().describe("Id of the service class the category belongs to."),
  latency_p99_ms: z.number().positive("must be > 0").describe("Latency objective: p99 in milliseconds."),
});

export const MaintenanceWindowWire = z
  .strictObject({
    id: text()
      .refine(
        (id) => !id.startsWith("feed:"),
        'must not begin with "feed:" (the maintenance feed\'s windows are named so)',
      )
      .describe(
        "Unique window id, e.g. mw-1; not one of the maintenance feed's window ids (both would stand, separately).",
      ),
    start: timestamp("Start of the announced downtime."),
    end: timestamp("End of the announced downtime (after start)."),
    announced_at: timestamp("When the provider announced it (the notice rule counts from here)."),
    categories: categoryList,
    description: z.string().optional().describe("Free text, e.g. the provider's announcement."),
  })
  .superRefine(endAfterStart);

export const MaintenanceFeedWire = z.strictObject({
  url: z
    .string()
    .refine(isHttpUrl, "must be an http(s) URL, like https://status.example.com")
    .describe("Base URL of the Statuspage; {url}/api/v2/scheduled-maintenances.json is read."),
  every: z
    .string()
    .refine((v) => (parseDuration(v) ?? 0) >= 60_000, "must be a duration of at least 1m, like 10m")
    .default("10m")
    .describe("How often the feed is read."),
  components: z
    .record(z.string(), categoryList)
    .optional()
    .describe(
      "Statuspage component name -> category ids it covers (or [all]). Absent: every window covers all categories. A feed window keeps the categories of the mapping in force when the agent first read it: a change (reload or restart) applies only to windows read, or whose components the provider changes, from then on, and never takes a category away from a window already read (a component the provider keeps keeps its categories, those the new mapping adds count from when the change is seen); every report of a month it falls in names it in `warnings`. An entry left out because no component was mapped and mapped later counts from when the agent first saw it (the evidence log's left-out record), if its schedule is the same.",
    ),
});

export const ExclusionWire = z
  .strictObject({
    id: text().describe("Unique exclusion id."),
    start: timestamp("Start of the excluded interval."),
    end: timestamp("End of the excluded interval (after start)."),
    reason: text().describe("Why it is excluded (force majeure, a third party, the merchant's own fault)."),
    categories: categoryList,
  })
  .superRefine(endAfterStart);

function endAfterStart(value: { start: string; end: string }, ctx: z.RefinementCtx): void {
  const start = parseTimestamp(value.start);
  const end = parseTimestamp(value.end);
  if (start !== null && end !== null && end <= start) {
    ctx.addIssue({ code: "custom", path: ["end"], message: "must be after start" });
  }
}

const secretValue = (what: string) => z.string().optional().describe(what);

const BasicAuthWire = z
  .strictObject({
    type: z.literal("basic"),
    username: secretValue(`User name (use ${ENV}); an empty one is a warning.`),
    username_file: secretValue("File holding the user name, relative to this file."),
    password: secretValue(`Password (use ${ENV}).`),
    password_file: secretValue("File holding the password, relative to this file."),
  })
  .superRefine((auth, ctx) => {
    exactlyOneOf(auth, "username", "username_file", ctx);
    exactlyOneOf(auth, "password", "password_file", ctx);
  });

const BearerAuthWire = z
  .strictObject({
    type: z.literal("bearer"),
    token: secretValue(`Bearer token (use ${ENV}).`),
    token_file: secretValue("File holding the token, relative to this file."),
  })
  .superRefine((auth, ctx) => exactlyOneOf(auth, "token", "token_file", ctx));

const NoAuthWire = z.strictObject({ type: z.literal("none") });

function exactlyOneOf<T extends object>(
  value: T,
  a: keyof T & string,
  b: keyof T & string,
  ctx: z.RefinementCtx,
) {
  const count = (value[a] === undefined ? 0 : 1) + (value[b] === undefined ? 0 : 1);
  if (count === 0) ctx.addIssue({ code: "custom", path: [a], message: `required (or ${b})` });
  if (count === 2) ctx.addIssue({ code: "custom", path: [b], message: `give either ${a} or ${b}, not both` });
}

export const AuthWire = z
  .discriminatedUnion("type", [BasicAuthWire, BearerAuthWire, NoAuthWire])
  .describe("How the agent authenticates: {type: basic|bearer|none, ...}.");

export const TargetWire = z.strictObject({
  base_url: z
    .string()
    .refine(isHttpUrl, "must be an absolute http:// or https:// URL")
    .describe("API base URL; probe paths are appended to it."),
  environment: z
    .enum(["production", "playground", "simulator"])
    .default("production")
    .describe("production, playground or simulator; probes with writes: true need playground or simulator."),
  auth: AuthWire.default({ type: "none" }),
  headers,
  max_requests_per_second: z
    .number()
    .positive("must be > 0")
    .optional()
    .describe("Cap on requests per second to this target across its probes (default: no cap)."),
  max_in_flight: z
    .number()
    .int("must be a whole number")
    .min(1, "must be between 1 and 1000")
    .max(1000, "must be between 1 and 1000")
    .default(8)
    .describe(
      "Runs of this target's probes in flight at once at most (1 to 1000; each holds a socket), and always this many: there is no agent-wide cap below the sum of the targets' budgets, so however many runs other (slow, hanging) targets hold, this target can have its max_in_flight in flight. A due run past it waits for one of them (and is skipped if its next run comes due first). check-config and run warn when, while the target hangs, its probes would need more (the sum of timeout_ms / every, at most 1 a probe), and when all targets' runs in flight with the controls could need more sockets than the process may open (its soft RLIMIT_NOFILE, `ulimit -Sn`).",
    ),
  keep_alive: z.boolean().default(true).describe("Reuse connections like a real client."),
  tls_verify: z.boolean().default(true).describe("Verify TLS certificates."),
});

const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

const probeId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be letters, digits, '-', '_' or '.'")
  .describe("Unique probe id across all files, e.g. payment-request-read.");

/** When a probe runs and how long a run may take: the keys every kind has. */
const scheduleFields = {
  id: probeId,
  every: z
    .string()
    .refine((v) => (parseDuration(v) ?? 0) >= 1000, "must be a duration of at least 1s, like 30s, 5m or 1h")
    .optional()
    .describe("Run interval, e.g. 30s (give every or schedule)."),
  schedule: z
    .string()
    .superRefine((v, ctx) => {
      const problem = cronProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional()
    .describe('Cron expression, 6 fields with seconds ("*/30 * * * * *") or 5 fields.'),
  timeout_ms: z
    .number()
    .int()
    .positive("must be > 0")
    .default(10_000)
    .describe("Request timeout in ms; keep it shorter than `every` (check-config warns otherwise)."),
};

/** The keys of the kinds that call a target's API and count in its SLA figures (http, flow). */
const apiFields = {
  category: text().describe("Id of the SLO category the probe measures."),
  target: text().describe("Id of the target it calls."),
  writes: z
    .boolean()
    .default(false)
    .describe("The probe creates objects; needs a playground or simulator target."),
  expect: z
    .strictObject({
      status: z
        .array(z.number().int().min(100, "must be a status 100-599").max(599, "must be a status 100-599"))
        .min(1, "must list at least one status")
        .describe("Statuses this probe should get, e.g. [404] for a nonexistent id."),
    })
    .optional()
    .describe(
      "What a valid measurement looks like. A response outside it still counts per the SLA formula but is a measurement problem (auth_failed for 401/403, else unexpected_status); without it only 401/403 are.",
    ),
};

const httpFields = {
  method: z.enum(HTTP_METHODS).default("GET").describe("(http) HTTP method."),
  path: z
    .string()
    .startsWith("/", 'must start with "/"')
    .describe("(http) Path and query, appended to the base URL."),
  headers,
  body: z
    .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())])
    .optional()
    .describe("(http) Request body: a string, or a mapping/list sent as JSON."),
  body_file: z
    .string()
    .min(1, "must not be empty")
    .optional()
    .describe(
      "(http) File holding the request body, relative to the file that declares the probe (instead of body; at most 1 MiB, read at load).",
    ),
  follow_redirects: z
    .number()
    .int()
    .min(0, "must be >= 0")
    .default(0)
    .describe("(http) Redirects to follow."),
  max_body_bytes: z
    .number()
    .int()
    .positive("must be > 0")
    .default(1_048_576)
    .describe(
      "(http) Response body bytes kept at most; up to 8 MiB more are read and discarded to reuse the connection, and a longer body is cut there (its connection closed).",
    ),
};

function everyOrSchedule(
  probe: { every?: string | undefined; schedule?: string | undefined },
  ctx: z.RefinementCtx,
) {
  if (probe.every === undefined && probe.schedule === undefined) {
    ctx.addIssue({ code: "custom", path: ["every"], message: "required (or schedule)" });
  }
  if (probe.every !== undefined && probe.schedule !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["schedule"],
      message: "give either every or schedule, not both",
    });
  }
}

/** The wire member of one diagnostic kind: its kind, the schedule keys and its own keys. */
function diagnosticMember<D extends ListedDiagnosticKind>(kind: D) {
  return z
    .strictObject({
      kind: z.literal(kind.kind as D["kind"]),
      ...scheduleFields,
      ...(kind.fields(z) as ReturnType<D["fields"]>),
    })
    .superRefine(everyOrSchedule as (probe: unknown, ctx: z.RefinementCtx) => void);
}

type DiagnosticMember<D> = D extends ListedDiagnosticKind ? ReturnType<typeof diagnosticMember<D>> : never;
type DiagnosticMembers = {
  -readonly [I in keyof typeof DIAGNOSTIC_KINDS]: DiagnosticMember<(typeof DIAGNOSTIC_KINDS)[I]>;
};

/** One member per kind of src/probes/kinds/diagnostic.ts, in its order. */
const diagnosticMembers = DIAGNOSTIC_KINDS.map(diagnosticMember) as unknown as DiagnosticMembers;

const kindNames = ["http", "flow", ...DIAGNOSTIC_KINDS.map((kind) => kind.kind)];

/**
 * One probe: a discriminated union on `kind` (contract section 18): http and flow, then one member
 * per diagnostic kind, whose keys live in its module (src/probes/kinds/).
 */
export const ProbeWire = z
  .discriminatedUnion("kind", [
    z
      // In the order the keys were listed before there were kinds: "known: ..." messages keep it.
      .strictObject({
        id: scheduleFields.id,
        kind: z
          .literal("http")
          .default("http")
          .describe(
            `Probe kind: http (default), ${kindNames.slice(1, -1).join(", ")} or ${kindNames.at(-1)}.`,
          ),
        category: apiFields.category,
        target: apiFields.target,
        every: scheduleFields.every,
        schedule: scheduleFields.schedule,
        method: httpFields.method,
        path: httpFields.path,
        headers: httpFields.headers,
        body: httpFields.body,
        body_file: httpFields.body_file,
        writes: apiFields.writes,
        follow_redirects: httpFields.follow_redirects,
        max_body_bytes: httpFields.max_body_bytes,
        timeout_ms: scheduleFields.timeout_ms,
        expect: apiFields.expect,
      })
      .superRefine(everyOrSchedule)
      .superRefine((probe, ctx) => {
        if (probe.body !== undefined && probe.body_file !== undefined)
          ctx.addIssue({
            code: "custom",
            path: ["body_file"],
            message: "give either body or body_file, not both",
          });
      }),
    z
      .strictObject({ kind: z.literal("flow"), ...scheduleFields, ...apiFields, ...flowFields })
      .superRefine(everyOrSchedule)
      .superRefine((flow, ctx) => {
        for (const p of flowProblems(flow))
          ctx.addIssue({ code: "custom", path: p.path, message: p.message });
      }),
    ...diagnosticMembers,
  ])
  .describe(`A probe: {id, kind: ${kindNames.join("|")}, every, ...}.`);

const receiverUrl = z.string().refine(isHttpUrl, "must be an absolute http:// or https:// URL");

const receiverTimeout = z
  .string()
  .refine((v) => (parseDuration(v) ?? 0) >= 100, "must be a duration of at least 100ms, like 10s")
  .default("10s")
  .describe("How long one delivery attempt may take.");

const receiverId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be letters, digits, '-', '_' or '.'")
  .describe("Unique receiver id: the `receiver` label of the delivery metrics.");

export const ReceiverWire = z
  .discriminatedUnion("type", [
    z.strictObject({
      id: receiverId,
      type: z.literal("alertmanager"),
      url: receiverUrl.describe("Alertmanager's base URL; alerts are posted to URL/api/v2/alerts."),
      timeout: receiverTimeout,
    }),
    z.strictObject({
      id: receiverId,
      type: z.literal("webhook"),
      url: receiverUrl.describe("Where the signed JSON notifications are posted."),
      secret: z
        .string()
        .min(16, "must be at least 16 characters")
        .describe(`HMAC-SHA256 key for the signature header (use ${ENV}; a secret).`),
      timeout: receiverTimeout,
    }),
    z.strictObject({
      id: receiverId,
      type: z.literal("slack"),
      url: receiverUrl.describe(`Slack-compatible incoming-webhook URL (use ${ENV}; a secret).`),
      timeout: receiverTimeout,
    }),
    z.strictObject({
      id: receiverId,
      type: z.literal("pagerduty"),
      routing_key: z
        .string()
        .min(1, "must not be empty")
        .describe(`The PagerDuty service's Events API v2 integration key (use ${ENV}; a secret).`),
      url: receiverUrl
        .default("https://events.pagerduty.com/v2/enqueue")
        .describe(
          "The Events API v2 endpoint (a PagerDuty EU account: https://events.eu.pagerduty.com/v2/enqueue).",
        ),
      timeout: receiverTimeout,
    }),
    z.strictObject({
      id: receiverId,
      type: z.literal("email"),
      smtp: z
        .strictObject({
          host: z.string().min(1).describe("The SMTP relay's host name."),
          port: z
            .number()
            .int()
            .min(1)
            .max(65535)
            .default(587)
            .describe("The relay's port (submission: 587)."),
          from: z.string().min(3).describe("The sender address."),
          to: z
            .union([z.string().min(3), z.array(z.string().min(3)).min(1)])
            .describe("One recipient address or a list."),
          starttls: z
            .boolean()
            .default(true)
            .describe("Upgrade the connection with STARTTLS and refuse to send in clear text."),
          ca_file: z
            .string()
            .optional()
            .describe("PEM file of the CA that signed the relay's certificate (default: the system's CAs)."),
          username: z.string().optional().describe("SMTP AUTH user name, if the relay asks for one."),
          password: z.string().optional().describe(`SMTP AUTH password (use ${ENV}; a secret).`),
        })
        .describe("The SMTP relay and the addresses."),
      timeout: receiverTimeout,
    }),
  ])
  .describe("Where the agent's own alerts go: {id, type: alertmanager|webhook|slack|pagerduty|email, ...}.");

const alertDuration = (min: number, what: string) =>
  z.string().refine((v) => (parseDuration(v) ?? -1) >= min, what);

export const AlertingWire = z
  .strictObject({
    receivers: z
      .array(ReceiverWire)
      .superRefine((receivers, ctx) => {
        const seen = new Set<string>();
        receivers.forEach((r, i) => {
          if (seen.has(r.id))
            ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate receiver id "${r.id}"` });
          seen.add(r.id);
        });
      })
      .default([])
      .describe("Receivers every alert is delivered to (none: alerts are only listed on /alerts)."),
    for: alertDuration(0, "must be a duration like 0s, 30s or 2m")
      .default("2m")
      .describe("How long a condition must hold (pending) before its alert fires."),
    repeat_interval: alertDuration(60_000, "must be a duration of at least 1m, like 4h")
      .default("4h")
      .describe("How often a firing alert is notified again while it lasts."),
    group_wait: alertDuration(0, "must be a duration like 0s, 30s or 1m")
      .default("30s")
      .describe(
        "How long a new group (alerts of one category and severity) waits before its first notification, so alerts firing together arrive in one.",
      ),
    group_interval: alertDuration(1_000, "must be a duration of at least 1s, like 5m")
      .default("5m")
      .describe(
        "How long after a group's last notification a change (an alert firing or resolving in it) is notified.",
      ),
    coverage_below_pct: percent
      .default(90)
      .describe("Alert when a category's probe coverage (recorded / expected runs) falls below this."),
    latency_window: z
      .enum(["5m", "30m", "1h", "6h", "1d"])
      .default("1h")
      .describe("The window whose p99 is compared with the latency objective."),
    runbook_base_url: z
      .string()
      .refine(isHttpUrl, "must be an absolute http:// or https:// URL")
      .optional()
      .describe(
        "Where your runbooks live: every alert (the agent's and the generated Prometheus rules) gets runbook_url = this/ALERTNAME. Unset: alerts carry no runbook_url (their hints annotation says what to check).",
      ),
  })
  .prefault({})
  .describe("Alerts evaluated by the agent itself and delivered without loss (docs/alerts.md).");

export const ProbeFileWire = z.array(ProbeWire);

export const ControlWire = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be letters, digits, '-', '_' or '.'")
    .describe("Unique control id, e.g. egress; its results are stored as probe control:<id>."),
  kind: z
    .enum(["http", "tcp", "dns"])
    .default("http")
    .describe(
      "Probe kind of the control: http (any response), tcp (a connection to the URL's host and port) or dns (the URL's host name resolves through the system resolver).",
    ),
  url: z
    .string()
    .refine(isHttpUrl, "must be an absolute http:// or https:// URL")
    .describe(
      "A neutral endpoint off the provider's network path; any HTTP response means it is up. One naming the host and port of a target a probe uses (any spelling of the local host: localhost, all of 127.0.0.0/8, ::1, 0.0.0.0, ::ffff:127.0.0.1, this machine's own interface addresses; a dns control: the host) is an error, one on another port of its host a warning (and a report warning when it witnesses that probe's failures), and one that reaches a probe's target address at run time (a DNS alias) witnesses none of that probe's failures.",
    ),
  every: z
    .string()
    .refine((v) => (parseDuration(v) ?? 0) >= 1000, "must be a duration of at least 1s, like 10s")
    .default("10s")
    .describe("Run interval."),
  timeout_ms: z
    .number()
    .int()
    .positive("must be > 0")
    .default(5_000)
    .describe("Request timeout in ms; keep it shorter than `every` (check-config warns otherwise)."),
});

const controlList = z
  .array(ControlWire)
  .superRefine((controls, ctx) => {
    const seen = new Set<string>();
    for (const [i, c] of controls.entries()) {
      if (seen.has(c.id))
        ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate control id "${c.id}"` });
      seen.add(c.id);
    }
  })
  .default([])
  .describe(
    "Neutral endpoints probed beside the provider. A provider request with no response while controls_quorum controls were failing too, each a healthy witness (it answered in the 10 minutes before its failures began and was not flapping), is merchant_side (excluded; see docs/sla-arithmetic.md).",
  );
const CreditTierWire = z.strictObject({
  below_pct: percent.describe("Availability below this percentage (strictly) earns this tier's credit."),
  credit_pct: z
    .number()
    .min(0, "must be >= 0")
    .max(100, "must be <= 100")
    .describe("Service credit, in percent of the month's fees."),
});

export const SlaWire = z
  .strictObject({
    provider: shownName()
      .default("Klarna")
      .describe("The provider the SLA is with, named in reports and claims."),
    source: z
      .enum(["probes", "traffic", "both"], { message: "must be probes, traffic or both" })
      .default("probes")
      .describe(
        "Which results decide the SLA figures: the agent's probes, the merchant's own requests (traffic:), or both; the report shows both either way.",
      ),
    credits: z
      .array(CreditTierWire)
      .default([])
      .describe("Service-credit tiers; a class earns the tier with the lowest below_pct it is under."),
    merchant: z
      .strictObject({
        name: text().describe("The merchant's legal name: the claim's sender."),
        contact: text().describe("Who the provider answers to (name and e-mail or address)."),
      })
      .optional()
      .describe("Who claims: named as the claim's sender and in its signature block."),
    contract_ref: text()
      .optional()
      .describe("The agreement's reference (contract or order number), quoted by the claim."),
    monthly_fee: z
      .strictObject({
        amount: z.number().nonnegative().describe("The month's fee under the agreement."),
        currency: z
          .string()
          .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code like EUR")
          .describe("ISO 4217 currency code."),
      })
      .optional()
      .describe("The fee the credit percentages apply to: credit_amount = amount * credit_pct / 100."),
  })
  .prefault({})
  .describe("The SLA's terms beyond the objectives: the provider and its service credits.");

export const SloFileWire = z.strictObject({
  version: z.literal(1).describe("Schema version; this agent reads 1."),
  agent: AgentWire,
  service_classes: z.record(z.string(), ServiceClassWire).describe("Service classes by id."),
  categories: z
    .record(
      z
        .string()
        .refine((id) => !id.startsWith("@"), 'category ids starting with "@" are reserved (@control)'),
      CategoryWire,
    )
    .describe("SLO categories by id."),
  maintenance: z
    .strictObject({
      policy: z
        .strictObject({
          min_notice_days: z
            .number()
            .min(0, "must be >= 0")
            .default(7)
            .describe("Days of notice a window needs."),
          max_occasions_per_year: z
            .number()
            .int()
            .min(0, "must be >= 0")
            .default(5)
            .describe("Qualifying windows per calendar year."),
          max_hours_per_year: z
            .number()
            .min(0, "must be >= 0")
            .default(15)
            .describe("Qualifying hours per year."),
        })
        .prefault({}),
      windows: z.array(MaintenanceWindowWire).default([]).describe("Announced maintenance windows."),
      feed: MaintenanceFeedWire.optional().describe(
        "Scheduled maintenance imported from an Atlassian Statuspage (see docs/operations.md).",
      ),
    })
    .prefault({})
    .describe("Announced downtime and the rules it must meet to be excluded."),
  exclusions: z.array(ExclusionWire).default([]).describe("Declared exclusions (no notice rule, no caps)."),
  targets: z.record(z.string(), TargetWire).describe("API targets by id."),
  controls: controlList,
  controls_quorum: z
    .number()
    .int("must be an integer")
    .min(1, "must be >= 1")
    .optional()
    .describe(
      "How many controls must be failing, each a healthy witness, for a provider failure to be merchant_side. Default 2, or 1 with one control; more than the controls configured is an error. Takes effect at the next start, like controls; each result is judged by the quorum in force when it was sent.",
    ),
  probes_dir: z.string().optional().describe("Directory of probe files (*.yaml), relative to this file."),
  probes: z.array(ProbeWire).optional().describe("Probes declared inline, besides those in probes_dir."),
  alerting: AlertingWire,
  sla: SlaWire,
  traffic: TrafficWire.optional(),
  reports: z
    .strictObject({
      schedule: z
        .strictObject({
          day: z
            .number()
            .int("must be an integer")
            .min(1, "must be 1..28")
            .max(28, "must be 1..28 (every month has it)")
            .describe("Day of the month (UTC) on which last month's final report is written."),
          formats: z
            .array(z.enum(["json", "md", "html", "csv", "pdf"]))
            .min(1, "name at least one format")
            .default(["json", "pdf"])
            .describe("Report formats written (pdf needs Chromium); the bundle is always written."),
          receivers: z
            .array(z.string())
            .default([])
            .describe("Ids of alerting.receivers told when the report is written (once)."),
        })
        .optional()
        .describe(
          "Write and announce last month's report by itself (see docs/report.md, Scheduled delivery).",
        ),
    })
    .optional()
    .describe("Reports the daemon writes by itself."),
  regions: z
    .strictObject({
      trusted_keys_file: text()
        .optional()
        .describe(
          "The other agents' Ed25519 public keys (PEM, concatenated), relative to this file: `report --from-agents` merges only summaries signed by one of them (like --trust-keys).",
        ),
    })
    .optional()
    .describe("Merging several agents' months into one report (see docs/regions-merge.md)."),
});

export type SloFile = z.output<typeof SloFileWire>;
export type ProbeWireValue = z.output<typeof ProbeWire>;
export type TargetWireValue = z.output<typeof TargetWire>;
export type AuthWireValue = z.output<typeof AuthWire>;
export type AlertingWireValue = z.output<typeof AlertingWire>;
