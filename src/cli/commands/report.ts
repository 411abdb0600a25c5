import { existsSync, readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import type { Clock } from "../../clock/clock.js";
import { systemClock } from "../../clock/system.js";
import { monthInterval } from "../../model/time.js";
import {
  describeProblem,
  type EvidenceStore,
  openEvidenceStore,
  RollupsDisagreeError,
} from "../../record/index.js";
import { parseTrustedKeys } from "../../reports/agent-signature.js";
import { sealReport } from "../../reports/evidence.js";
import {
  buildMonthlyReport,
  claimOf,
  defaultFormat,
  hasClaim,
  type MonthlyReport,
  NoChromiumError,
  PdfRenderError,
  parseFormat,
  REPORT_FORMATS,
  type ReportFormat,
  renderPdf,
  renderReport,
  signReport,
  UnknownCategoryError,
  writeAtomically,
} from "../../reports/index.js";
import { withFeedWindows } from "../../slo/index.js";
import { loadCommandContext } from "../context.js";
import { CheckFailed, UsageError } from "../errors.js";
import { type MonthEvidence, monthEvidence, sealOf } from "../evidence-seal.js";
import { timestampStatement } from "../evidence-timestamp.js";
import { type CommonOptions, withCommonOptions } from "../options.js";
import { type AgentTrust, agentUrls, reportFromAgents, TOKEN_ENV } from "./report-agents.js";
import { PROMETHEUS_TOKEN_ENV, runPrometheusReport } from "./report-prometheus.js";

interface ReportOptions extends CommonOptions {
  month?: string;
  format?: string;
  out?: string;
  category: string[];
  failOnMiss?: boolean;
  allowUnverified?: boolean;
  claim?: boolean;
  allowPreliminary?: boolean;
  prometheus?: string;
  fromAgents?: string;
  trustKeys?: string;
  insecureUnsigned?: boolean;
}

const EXAMPLES = `
Examples:
  $ slo-agent report --month 2026-10                          Markdown on a terminal, JSON into a pipe
  $ slo-agent report --month 2026-10 --format html --out october.html
  $ slo-agent report --month 2026-10 --out october.csv        format from the file's extension
  $ slo-agent report --month 2026-10 --out october.pdf        A4 PDF through the system's Chromium
  $ slo-agent report --month 2026-10 --category payment_request,settlements --format md
  $ slo-agent report --month 2026-10 --fail-on-miss > report.json || echo "SLA missed"
  $ slo-agent report --month 2026-10 --claim --out claim-2026-10.pdf   the letter to the provider
  $ slo-agent report --month 2026-10 --prometheus http://prometheus:9090 --format md
  $ SLO_AGENT_API_TOKEN=... slo-agent report --month 2026-10 --from-agents http://eu:9464,http://na:9464 --trust-keys agents.pem
  $ EU_TOKEN=... NA_TOKEN=... slo-agent report --month 2026-10 --trust-keys agents.pem \\
      --from-agents 'http://eu:9464#token-env=EU_TOKEN,http://na:9464#token-env=NA_TOKEN'

--prometheus URL computes the month from the agents' counters and latency histogram in any
Prometheus-compatible API (Prometheus, Thanos, Mimir, VictoriaMetrics), every region and agent
pooled: approximate figures, with their precision limits stated, and no evidence (json or md
only). A bearer token for that API is read from ${PROMETHEUS_TOKEN_ENV}. An unreachable URL or
an answer that is not a Prometheus one is exit 2 naming the URL; values no agent's counters can
give are exit 1. Whether a latency objective was met is decided by the bucket at the objective
(99 % of the responses in it, not counting responses beyond the requests); where the buckets
cannot tell it is "undecided" (a line on stderr; with --fail-on-miss, exit 1), and met only
within increase()'s extrapolation of few scrapes is said so on stderr. An availability objective
is undecided when the histogram holds responses the request counters did not count and they
could put it either side of the target. Prometheus' own warnings (a partial answer) are shown, printed on
stderr and fail --fail-on-miss; so does a Prometheus with no series of the agents in the month
(a wrong URL). See docs/regions.md.

--from-agents merges the agents' month summaries (GET /api/v1/months/M/summary, bearer token
agent.api_token from SLO_AGENT_API_TOKEN, or per agent from $NAME with URL#token-env=NAME) into
one report: counts add exactly, each p99 is the nearest rank of all the agents' durations, and
each category lists its regions. Each summary is signed by its agent's key; only keys pinned in
--trust-keys FILE (or regions.trusted_keys_file) are merged. It refuses, naming the agent, a bad
signature, an unpinned key, a month other than asked, one agent twice and any count that is not
a whole number >= 0 with successful <= requests (exit 1); an unreachable agent, a refused token,
agents whose SLA configuration differs, or no trusted keys without --insecure-unsigned (exit 2).
See docs/regions-merge.md.

--claim adds a letter to the provider (sla.provider): each missed objective with its figures,
the service credit per class, the incidents with error codes and correlation ids, and how to
check the signed statement and the evidence bundle. A month with nothing missed gets no claim
(a note on stderr, exit 0); a PRELIMINARY month is refused (exit 2) unless --allow-preliminary.

The report re-hashes every record it reports (and the records on both sides of the month) and
refuses altered evidence: exit 1 naming the first bad record. With --allow-unverified it is
written anyway, stamped UNVERIFIED in every format ("evidence": {"verified": false} in JSON).
The JSON evidence object carries a statement signed with the agent's Ed25519 key, and with
agent.tsa_url set, the TSA's RFC 3161 timestamp of it (a TSA that fails is one warning line).
The JSON report is also signed whole (report_signature, over its RFC 8785 form without it):
\`slo-agent verify --report FILE.json\` checks that no figure was changed; every other format
shows that form's SHA-256, the report's digest. Each run stamps its own generated_at, so to send
a provider one digest throughout, write the JSON report with --claim once, send it, and export
the bundle with it: \`slo-agent evidence export --month M --out DIR --report FILE.json\`.

Exit codes: 0 report written, 1 the evidence did not verify (without --allow-unverified) or an
objective was missed and --fail-on-miss was given,
2 bad usage (bad --month, unknown --category, bad configuration, no evidence store in the data
directory, an --out file that cannot be written or whose extension names no format, --format pdf
with no Chromium installed).`;

/** --category may be repeated and each may be a comma list. */
function collectCategories(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(",")
      .map((c) => c.trim())
      .filter((c) => c !== ""),
  ];
}

function checkedMonth(month: string | undefined): string {
  if (month === undefined) throw new UsageError("slo-agent report: --month YYYY-MM is required");
  try {
    monthInterval(month);
  } catch (error) {
    throw new UsageError(`slo-agent report: --month: ${(error as Error).message}`);
  }
  return month;
}

/**
 * The format asked for. An --out file must name a format by its extension (october.pdf, .html,
 * .md, .json, .csv): a report must never be JSON in disguise under another file's name.
 */
function checkedFormat(opts: ReportOptions): ReportFormat {
  if (opts.out !== undefined && defaultFormat(opts.out, false) === null) {
    throw new UsageError(
      `slo-agent report: --out: "${opts.out}" has no report file extension (use .${REPORT_FORMATS.join(", .")})`,
    );
  }
  if (opts.format === undefined) return defaultFormat(opts.out, process.stdout.isTTY === true) ?? "json";
  const format = parseFormat(opts.format);
  if (format === null) {
    throw new UsageError(
      `slo-agent report: --format must be one of ${REPORT_FORMATS.join(", ")}, got "${opts.format}"`,
    );
  }
  const named = opts.out === undefined ? null : defaultFormat(opts.out, false);
  if (named !== null && named !== format) {
    throw new UsageError(`slo-agent report: --out: "${opts.out}" names ${named}, but --format is ${format}`);
  }
  return format;
}

async function writeReportFile(file: string, content: string | Uint8Array): Promise<void> {
  try {
    await writeAtomically(file, content);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`slo-agent report: --out: cannot write ${file} (${reason})`);
  }
}

/** Read-only, so that a mistyped --data-dir is one line and exit 2 rather than a new empty store. */
function openStore(dataDir: string, clock: Clock, signingKeyFile: string | null | undefined): EvidenceStore {
  try {
    // The configured key: the one the checkpoints are checked against and the statement signed by.
    return openEvidenceStore({ dataDir, clock, readOnly: true, signingKeyFile });
  } catch (error) {
    throw new UsageError(`slo-agent report: ${(error as Error).message}`);
  }
}

async function runReport(opts: ReportOptions, clock: Clock): Promise<void> {
  const month = checkedMonth(opts.month);
  if (opts.prometheus !== undefined && opts.fromAgents !== undefined)
    throw new UsageError(
      "slo-agent report: --prometheus and --from-agents are two ways to the same month; give one",
    );
  if (opts.prometheus !== undefined)
    return runPrometheusReport(month, { ...opts, prometheus: opts.prometheus }, clock);
  const format = checkedFormat(opts);
  if (opts.fromAgents !== undefined) return runMergedReport(opts, month, format, clock);
  const { config, dataDir } = await loadCommandContext(opts, process.stderr, "offline");
  const categories = opts.category.length > 0 ? [...new Set(opts.category)] : undefined;
  const store = openStore(dataDir, clock, config.agent.signingKeyFile);
  // Assigned in the verification's pass (a callback: `as` keeps TypeScript from narrowing it away).
  let report = undefined as MonthlyReport | undefined;
  let evidence: MonthEvidence;
  // One instant: a declared window's change no configuration record holds is first seen now.
  const now = clock.now();
  try {
    // The feed's windows (docs/operations.md, "Maintenance feed") count like declared ones.
    // Declared windows by the notice of their versions in the log's configuration records.
    const maintained = withFeedWindows(config, store.feedWindows.all(), {
      ...store.declaredWindowVersions(),
      now,
      month,
    });
    // One read of the month: the report is built from the records the verification re-hashes.
    evidence = monthEvidence({
      command: "slo-agent report",
      store,
      config,
      dataDir,
      month,
      now,
      signatureRequired: false,
      readAlong: (verified) => {
        report = buildMonthlyReport({
          config: maintained,
          store,
          month,
          now,
          categories,
          agent: config.agent.id,
          verified,
        });
      },
    });
  } catch (error) {
    if (error instanceof UnknownCategoryError)
      throw new UsageError(`slo-agent report: --category: ${error.message}`);
    // The agent's runs read a pruned day's rollups (a crashed run's end) only once they match their commitment.
    if (error instanceof RollupsDisagreeError)
      throw new CheckFailed(`slo-agent report: the evidence for ${month} did not verify: ${error.message}`);
    // Rows forged into the store can break what the report reads before the month is verified:
    // then the evidence is what is wrong (exit 1, naming it), not the command.
    const checked = store.verify();
    if (!checked.ok)
      throw new CheckFailed(
        `slo-agent report: the evidence for ${month} did not verify: ${describeProblem(checked.problem)} (reading it failed: ${(error as Error).message})`,
      );
    throw error;
  } finally {
    store.close();
  }
  if (report === undefined) throw new Error("slo-agent report: the verification did not read the month");
  if (evidence.problemText !== null && !opts.allowUnverified) {
    throw new CheckFailed(
      `slo-agent report: the evidence for ${month} did not verify: ${evidence.problemText} (--allow-unverified writes the report stamped UNVERIFIED)`,
    );
  }
  const timestamp = await timestampStatement("slo-agent report", config.agent, evidence.statement);
  report = sealReport(report, { ...sealOf(evidence), timestamp });
  if (opts.claim) report = withClaim(report, opts);
  // Last: the signature covers the whole report, claim included (contract section 13).
  if (evidence.key) report = signReport(report, evidence.key);
  await deliver(report, format, opts, month);
}

/** Writes the report to --out or stdout; with --fail-on-miss, a missed objective is exit 1. */
async function deliver(report: MonthlyReport, format: ReportFormat, opts: ReportOptions, month: string) {
  const content = await rendered(report, format);
  if (opts.out === undefined) process.stdout.write(content);
  else await writeReportFile(opts.out, content);
  if (opts.failOnMiss && report.summary.missed.length > 0) {
    throw new CheckFailed(
      `slo-agent report: objectives missed in ${month}: ${report.summary.missed.join(", ")}`,
    );
  }
}

/** `--from-agents`: one report from several running agents; no local configuration or store is read. */
async function runMergedReport(opts: ReportOptions, month: string, format: ReportFormat, clock: Clock) {
  for (const [given, flag] of [
    [opts.category.length > 0, "--category"],
    [opts.claim, "--claim"],
  ] as const) {
    if (given) throw new UsageError(`slo-agent report: ${flag} does not go with --from-agents`);
  }
  const agents = agentUrls(opts.fromAgents!);
  const trust = await agentTrust(opts);
  const report = await reportFromAgents(agents, month, process.env, trust, clock);
  await deliver(report, format, opts, month);
}

/**
 * The pinned agent keys: --trust-keys, else regions.trusted_keys_file of the configuration (when
 * there is one); without either, only --insecure-unsigned merges (stamped UNVERIFIED).
 */
async function agentTrust(opts: ReportOptions): Promise<AgentTrust> {
  let file = opts.trustKeys;
  // The configuration is read only when it is the one place left to find the keys.
  if (file === undefined && !opts.insecureUnsigned && opts.config !== undefined && existsSync(opts.config)) {
    const { config } = await loadCommandContext(opts);
    file = config.regions?.trustedKeysFile;
  }
  if (file === undefined) {
    if (opts.insecureUnsigned) return null;
    throw new UsageError(
      "slo-agent report --from-agents: give --trust-keys FILE (the agents' public keys, PEM) or regions.trusted_keys_file; --insecure-unsigned merges unchecked summaries, stamped UNVERIFIED",
    );
  }
  if (opts.insecureUnsigned) {
    throw new UsageError(
      "slo-agent report: --insecure-unsigned and trusted keys contradict each other; give one",
    );
  }
  try {
    return parseTrustedKeys(readFileSync(file, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`slo-agent report: trusted keys ${file}: ${reason}`);
  }
}

/**
 * The claim letter: refused for a preliminary month (its figures may still change) unless
 * --allow-preliminary; left out, with a note, for a month that missed nothing.
 */
function withClaim(report: MonthlyReport, opts: ReportOptions): MonthlyReport {
  if (report.preliminary && !opts.allowPreliminary) {
    throw new UsageError(
      `slo-agent report --claim: ${report.month} is PRELIMINARY (${report.preliminary_reasons.join(" and ")}); claim once it is final, or pass --allow-preliminary`,
    );
  }
  if (!hasClaim(report)) {
    process.stderr.write(`slo-agent report: no claim written: nothing was missed in ${report.month}\n`);
    return report;
  }
  return { ...report, claim: claimOf(report) };
}

async function rendered(report: MonthlyReport, format: ReportFormat): Promise<string | Uint8Array> {
  if (format !== "pdf") return renderReport(report, format);
  try {
    return await renderPdf(report);
  } catch (error) {
    if (error instanceof NoChromiumError)
      throw new UsageError(`slo-agent report: --format pdf: ${error.message}`);
    if (error instanceof PdfRenderError)
      throw new CheckFailed(`slo-agent report: --format pdf: ${error.message}`);
    throw error;
  }
}

export function registerReport(program: Command, clock: Clock = systemClock): void {
  withCommonOptions(program.command("report"))
    .description(
      "the monthly SLA evidence report: JSON, Markdown, HTML with charts, CSV or PDF (with --claim, the letter to the provider)",
    )
    .option("-m, --month <YYYY-MM>", "the UTC calendar month to report on (required)")
    .addOption(
      new Option(
        "-f, --format <format>",
        "json | md | html | csv | pdf (default: from --out's extension, else md on a terminal and json into a pipe)",
      ).choices([...REPORT_FORMATS, "markdown"]),
    )
    .option("-o, --out <file>", "write the report to this file (atomically) instead of stdout")
    .option("--category <ids>", "only these categories (repeatable, or a comma list)", collectCategories, [])
    .option("--fail-on-miss", "exit 1 when any objective was missed (for pipelines)")
    .option("--allow-unverified", "write the report even if its evidence does not verify, stamped UNVERIFIED")
    .option("--claim", "add a service credit claim addressed to the provider (only for a month with a miss)")
    .option("--allow-preliminary", "with --claim: write the claim even while the month is PRELIMINARY")
    .option(
      "--prometheus <url>",
      `approximate figures from a Prometheus-compatible API instead of the store (token: $${PROMETHEUS_TOKEN_ENV})`,
    )
    .option(
      "--from-agents <urls>",
      `one report merged from running agents (comma list of base URLs, each optionally URL#token-env=NAME); the token comes from ${TOKEN_ENV}`,
    )
    .option(
      "--trust-keys <file>",
      "with --from-agents: the agents' Ed25519 public keys (PEM); only their signed summaries are merged",
    )
    .option(
      "--insecure-unsigned",
      "with --from-agents and no trusted keys: merge unchecked summaries, stamped UNVERIFIED",
    )
    .addHelpText("after", EXAMPLES)
    .action((opts: ReportOptions) => runReport(opts, clock));
}
